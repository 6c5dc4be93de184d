// Command npti is NPTI Studio: with no subcommand it opens the desktop app,
// with a subcommand it runs the headless command-line tools.
package main

import "github.com/npti-studio/npti/app"

func main() { app.Run() }
