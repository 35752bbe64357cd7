// Builds Traefik, the kind backend's Ingress controller where no registry answers
// (`rwk node-image`, nodeimage.py: _traefik_module lays this module out in the cache).
// Traefik's own go.mod carries replace and exclude directives, which apply only to the main
// module; this module repeats them, with three differences, each because the module proxy
// refuses what Traefik names:
//   - dynamic/ext, a nested module of Traefik's repository: ./ext is our own stand-in (two
//     empty extension types, all that open-source Traefik uses of it);
//   - containous/go-http-auth, Traefik's fork: ./go-http-auth is the upstream module, copied
//     from the module cache at build time, plus go_http_auth_additions.go.tmpl (the two
//     names Traefik calls that the fork adds);
//   - lego's DNS providers for six clouds, whose SDK versions are refused: ./lego is lego,
//     copied likewise, with those providers replaced by lego_left_out.go.tmpl.
module rwk.local/kind/traefik

go 1.26.0

require github.com/traefik/traefik/v3 v3.7.13

// The two modules laid out as directories (see above), at the versions they are copied at:
// lego as Traefik pins it, go-http-auth as upstream's newest release.
require (
	github.com/abbot/go-http-auth v0.4.0
	github.com/go-acme/lego/v5 v5.4.1
)

replace github.com/traefik/traefik/dynamic/ext => ./ext

replace (
	github.com/abbot/go-http-auth => ./go-http-auth
	github.com/gorilla/mux => github.com/containous/mux v0.0.0-20250523120546-41b6ec3aed59
)

exclude github.com/tencentcloud/tencentcloud-sdk-go v3.0.83+incompatible

replace github.com/go-acme/lego/v5 => ./lego
