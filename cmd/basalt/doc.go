// Command basalt is Basalt's one binary. `basalt server` runs the storage
// core and the S3 endpoint on one machine; `basalt version` prints the
// version. Every flag of `basalt server` can also be set through an
// environment variable BASALT_<FLAG> (dashes become underscores); a flag
// given on the command line wins over the environment.
//
// This package only turns flags into a server.Config and calls server.Run;
// exit status 2 means the configuration was refused, 1 that the server
// failed.
package main
