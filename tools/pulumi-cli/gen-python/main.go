// Command gen-python writes the Python SDK of a Pulumi package schema, with the code generator of the
// pinned Pulumi CLI's own module (pkg/v3/codegen/python). `pulumi package gen-sdk --language python`
// asks the Python language host to generate it, and the host that can be built here predates that
// request ("method GeneratePackage not implemented"); the generator it would run is this one.
//
//	gen-python SCHEMA.json OUT_DIR
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/pulumi/pulumi/pkg/v3/codegen/python"
	"github.com/pulumi/pulumi/pkg/v3/codegen/schema"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: gen-python SCHEMA.json OUT_DIR")
		os.Exit(2)
	}
	if err := generate(os.Args[1], os.Args[2]); err != nil {
		fmt.Fprintf(os.Stderr, "gen-python: %v\n", err)
		os.Exit(1)
	}
}

func generate(schemaPath, out string) error {
	text, err := os.ReadFile(schemaPath)
	if err != nil {
		return err
	}
	var spec schema.PackageSpec
	if err := json.Unmarshal(text, &spec); err != nil {
		return fmt.Errorf("%s: %w", schemaPath, err)
	}
	// The package references no other package, so the loader (which would start plugins) is never asked for one.
	loader := schema.NewPluginLoader(nil)
	pkg, diags, err := schema.BindSpec(spec, loader, schema.ValidationOptions{})
	if err != nil {
		return err
	}
	if diags.HasErrors() {
		return fmt.Errorf("%s: %s", schemaPath, diags.Error())
	}
	files, err := python.GeneratePackage("pulumi-netns", pkg, map[string][]byte{}, loader)
	if err != nil {
		return err
	}
	for name, content := range files {
		path := filepath.Join(out, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(path, content, 0o644); err != nil {
			return err
		}
	}
	return nil
}
