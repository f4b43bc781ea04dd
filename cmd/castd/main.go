// Command castd is a live streaming server that reads SRS's config files
// and speaks SRS's protocols, API and hooks. See the README.
package main

import (
	"context"
	"os"

	"github.com/castd/castd/internal/cli"
)

func main() {
	os.Exit(cli.Run(context.Background(), cli.Env{
		Args: os.Args[1:], LookupEnv: os.LookupEnv, Stdout: os.Stdout, Stderr: os.Stderr,
	}))
}
