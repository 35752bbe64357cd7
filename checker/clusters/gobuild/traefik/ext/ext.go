// Package ext stands in for Traefik's dynamic configuration extension point, a nested
// module the Go module proxy does not serve. Open-source Traefik embeds these two types
// in its HTTP configuration and its routers and adds nothing to them.
package ext

// HTTP is embedded in Traefik's dynamic HTTP configuration.
type HTTP struct{}

// Router is embedded in each of Traefik's HTTP routers.
type Router struct{}
