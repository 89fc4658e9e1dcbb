// right_st_writer writes RightScript metadata blocks the way right_st does, with go-yaml v2.
//
// It is test tooling, not part of the test suite: it produced the bytes of the golden files in
// tests/golden/rightscripts/ (see SOURCES.md there). The shapes below follow right_st's own
// metadata writer (github.com/rightscale/right_st, metadata.go of v1.9.x: the RightScriptMetadata
// and InputMetadata field order and yaml tags, inputs marshalled in file order as a yaml.MapSlice,
// and WriteTo's line prefixing); the YAML itself is go-yaml v2's Marshal.
//
// Input (stdin): a JSON list of {"file", "marker", "metadata": {...}}. Output (stdout): a JSON
// object mapping each file to the metadata block right_st would write for it.
//
// With -scalars, stdin is a JSON list of strings instead, and stdout a JSON list of [string, how go-yaml
// writes it as a mapping value] pairs: how the writer must quote each text value.
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"strings"

	"gopkg.in/yaml.v2"
)

// What right_st marshals, field by field: RightScript Name always; Description and Packages only
// when set; Inputs always ({} when empty); Attachments always ([] when empty).
type scriptMeta struct {
	Name        string   `yaml:"RightScript Name" json:"name"`
	Description string   `yaml:"Description,omitempty" json:"description"`
	Packages    string   `yaml:"Packages,omitempty" json:"packages"`
	Inputs      inputs   `yaml:"Inputs" json:"inputs"`
	Attachments []string `yaml:"Attachments" json:"attachments"`
}

// Per input: Category always (even ""), Description only when set, then Input Type, Required and
// Advanced always, Default and Possible Values only when set.
type input struct {
	Name           string   `yaml:"-" json:"name"`
	Category       string   `yaml:"Category" json:"category"`
	Description    string   `yaml:"Description,omitempty" json:"description"`
	InputType      string   `yaml:"Input Type" json:"input_type"`
	Required       bool     `yaml:"Required" json:"required"`
	Advanced       bool     `yaml:"Advanced" json:"advanced"`
	Default        string   `yaml:"Default,omitempty" json:"default"`
	PossibleValues []string `yaml:"Possible Values,omitempty" json:"possible_values"`
}

// inputs keep their order: marshalled as an ordered yaml.MapSlice, as right_st does.
type inputs []input

func (in inputs) MarshalYAML() (interface{}, error) {
	ordered := yaml.MapSlice{}
	for _, i := range in {
		ordered = append(ordered, yaml.MapItem{Key: i.Name, Value: i})
	}
	return ordered, nil
}

type request struct {
	File     string     `json:"file"`
	Marker   string     `json:"marker"`
	Metadata scriptMeta `json:"metadata"`
}

// block: "MARKER ---", each line of the YAML as "MARKER LINE" (an empty line as "MARKER" alone),
// then "MARKER ...".
func block(marker string, meta scriptMeta) (string, error) {
	if meta.Inputs == nil {
		meta.Inputs = inputs{}
	}
	if meta.Attachments == nil {
		meta.Attachments = []string{}
	}
	text, err := yaml.Marshal(meta)
	if err != nil {
		return "", err
	}
	var out bytes.Buffer
	fmt.Fprintf(&out, "%s ---\n", marker)
	lines := bufio.NewScanner(bytes.NewReader(text))
	for lines.Scan() {
		if line := lines.Text(); line != "" {
			fmt.Fprintf(&out, "%s %s\n", marker, line)
		} else {
			fmt.Fprintf(&out, "%s\n", marker)
		}
	}
	fmt.Fprintf(&out, "%s ...\n", marker)
	return out.String(), lines.Err()
}

// scalars: each string as go-yaml v2 writes it as the value of a one-key mapping ("k: VALUE").
func scalars() {
	var values []string
	if err := json.NewDecoder(os.Stdin).Decode(&values); err != nil {
		fmt.Fprintln(os.Stderr, "right_st_writer:", err)
		os.Exit(2)
	}
	pairs := [][2]string{}
	for _, value := range values {
		text, err := yaml.Marshal(yaml.MapSlice{{Key: "k", Value: value}})
		if err != nil {
			fmt.Fprintln(os.Stderr, "right_st_writer:", err)
			os.Exit(1)
		}
		pairs = append(pairs, [2]string{value, strings.TrimSuffix(strings.TrimPrefix(string(text), "k: "), "\n")})
	}
	write(pairs)
}

func write(value interface{}) {
	encoder := json.NewEncoder(os.Stdout)
	encoder.SetIndent("", "  ")
	encoder.SetEscapeHTML(false)
	if err := encoder.Encode(value); err != nil {
		fmt.Fprintln(os.Stderr, "right_st_writer:", err)
		os.Exit(1)
	}
}

func main() {
	scalarMode := flag.Bool("scalars", false, "write how go-yaml writes each string of a JSON list")
	flag.Parse()
	if *scalarMode {
		scalars()
		return
	}
	var requests []request
	if err := json.NewDecoder(os.Stdin).Decode(&requests); err != nil {
		fmt.Fprintln(os.Stderr, "right_st_writer:", err)
		os.Exit(2)
	}
	blocks := map[string]string{}
	for _, r := range requests {
		marker := r.Marker
		if marker == "" {
			marker = "#"
		}
		text, err := block(marker, r.Metadata)
		if err != nil {
			fmt.Fprintln(os.Stderr, "right_st_writer:", r.File+":", err)
			os.Exit(1)
		}
		blocks[r.File] = text
	}
	write(blocks)
}
