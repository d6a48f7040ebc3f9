// Package crashtest kills a real aiod subprocess with SIGKILL at seeded
// random points of its work (a Terraform apply, probe load, key rotation,
// a backup, an alert delivery, a retention pass), restarts it, and checks
// that nothing it acknowledged was lost, that nothing was done twice and that the
// database file is intact. Each test runs a few seeds by default
// (AIO_CRASH_SEEDS=n for more, as make stress does; AIO_CRASH_SEED=n to
// reproduce one) and logs a "FIGURES crash" line that scripts/stress.sh
// adds up.
package crashtest
