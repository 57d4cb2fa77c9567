// 24 independent dynamic resources whose create takes 400 ms and logs when it starts and ends (to
// the file in config `log`): the log shows how many creates the engine runs at once.
import * as pulumi from "@pulumi/pulumi";

const log = new pulumi.Config().require("log");

const sleeper: pulumi.dynamic.ResourceProvider = {
    async create(inputs) {
        const fs = require("fs") as typeof import("fs");
        fs.appendFileSync(inputs.log, `start ${inputs.n}\n`);
        await new Promise((resolve) => setTimeout(resolve, 400));
        fs.appendFileSync(inputs.log, `end ${inputs.n}\n`);
        return { id: String(inputs.n), outs: inputs };
    },
};

class Sleeper extends pulumi.dynamic.Resource {}

for (let n = 0; n < 24; n++) new Sleeper(sleeper, `sleeper-${n}`, { log, n }, {});
