// The inline program of lab.ts as a project of its own (`pulumi up` in this folder).
import { lab } from "./lab";

const out = lab();
export const namespace = out.namespace;
export const hostEnd = out.hostEnd;
export const rule = out.rule;
