//go:build !unix

package testsrv

// lockFile does nothing where flock is missing: parallel test binaries may
// then each run the install.
func lockFile(string) (unlock func(), err error) { return func() {}, nil }
