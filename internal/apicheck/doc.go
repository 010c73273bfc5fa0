// Package apicheck has no code, only a test: the exported API of the
// project's public packages (every package outside internal/ and cmd/)
// must not mention a type of an internal package, because a user cannot
// name, build or document such a type.
package apicheck
