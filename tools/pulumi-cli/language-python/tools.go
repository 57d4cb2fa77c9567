//go:build tools

// Package tools pins the Python language host. Its own module, github.com/pulumi/pulumi/sdk/python/cmd/
// pulumi-language-python/v3, is refused by the module proxy (403); sdk/v3 v3.79.0 is the newest sdk/v3 that
// still contains python/cmd/pulumi-language-python (v3.80.0 no longer does). See ../build.sh.
package tools

import _ "github.com/pulumi/pulumi/sdk/v3/python/cmd/pulumi-language-python"
