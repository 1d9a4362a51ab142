package file

// SetCrashPoint installs a function run at each step of a commit (tests
// kill the process there).
func SetCrashPoint(f func(step string)) { crashPoint = f }
