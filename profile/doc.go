// Package profile names the behaviours in which real TCP and DCCP stacks
// differ, so that a teardown stack can be told to behave like one of them.
//
// A Profile is plain data: the protocol cores read one field at the point
// where the behaviour is decided (docs/ARCHITECTURE.md, "Profiles are data"),
// never an "if os == ..." elsewhere. The named profiles are the ones the
// scenarios of docs/scenarios.md compare; Linux is the default.
package profile
