//go:build tools

// Package tools pins the Consul main package so that `go mod tidy` keeps the
// requirement on github.com/hashicorp/consul in this module.
package tools

import _ "github.com/hashicorp/consul"
