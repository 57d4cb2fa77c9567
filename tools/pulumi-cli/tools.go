//go:build tools

// Package tools pins the Pulumi CLI that the e2e tests and `npm run up` build (tools/pulumi-cli/build.sh).
package tools

import _ "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi"
