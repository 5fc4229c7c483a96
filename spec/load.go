package spec

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"

	"github.com/goccy/go-yaml"
)

// Load reads, defaults, strictly decodes and validates the spec at path.
// It touches no file but path.
func Load(path string) (*Spec, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read spec: %w", err)
	}
	return Parse(path, data)
}

// Parse is Load for bytes already read; filename is used in messages.
// TODO(foundation): strict decoding with line numbers and Validate.
func Parse(filename string, data []byte) (*Spec, error) {
	var s Spec
	if err := yaml.UnmarshalWithOptions(data, &s, yaml.Strict()); err != nil {
		return nil, fmt.Errorf("%s: %w", filename, err)
	}
	s.ApplyDefaults()
	return &s, nil
}

// ApplyDefaults fills every unset field with its documented default.
// TODO(foundation): complete.
func (s *Spec) ApplyDefaults() {}

// Hash is the sha256 of the spec's canonical JSON form (after defaults).
func (s *Spec) Hash() string {
	b, _ := json.Marshal(s)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
