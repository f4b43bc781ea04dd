package conf

import _ "embed"

//go:embed default.conf
var defaultText string

// DefaultText returns the text of the built-in configuration.
func DefaultText() string { return defaultText }

// Default builds the built-in configuration (SRS's console.conf with SRT
// added), applying environment overrides from opt.
func Default(opt Options) (*Config, error) {
	return Parse("default.conf", []byte(defaultText), opt)
}
