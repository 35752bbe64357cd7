//go:build tools

// Package tools pins the Traefik command, so that 'go mod tidy' records every module it
// needs in go.sum.
package tools

import _ "github.com/traefik/traefik/v3/cmd/traefik"
