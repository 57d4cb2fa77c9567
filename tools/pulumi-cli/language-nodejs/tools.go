//go:build tools

// Package tools pins the Node.js language host (see ../build.sh for why it comes from sdk/v3 v3.68.0).
package tools

import _ "github.com/pulumi/pulumi/sdk/v3/nodejs/cmd/pulumi-language-nodejs"
