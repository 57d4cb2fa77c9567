//go:build tools

// Package tools pins the YAML language host. It is a module of its own because pulumi-yaml v1.25.0
// does not compile against the CLI's pkg/v3 v3.248.0: here its own go.mod decides pkg/v3 and sdk/v3.
package tools

import _ "github.com/pulumi/pulumi-yaml/cmd/pulumi-language-yaml"
