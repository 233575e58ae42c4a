// goclient.go - a pure-Go TCP client for the kashim-bpf tests (built with
// CGO_ENABLED=0: static, no libc, out of LD_PRELOAD's reach).
//
//	goclient HOST:PORT default|off
//
// default dials as Go does by default (it sets SO_KEEPALIVE,
// TCP_KEEPIDLE and TCP_KEEPINTVL itself after connecting); off dials with
// KeepAlive: -1 (Go sets nothing). Then it prints "ready" and keeps the
// connection 30 s; the test kills it sooner.
package main

import (
	"fmt"
	"net"
	"os"
	"time"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: goclient HOST:PORT default|off")
		os.Exit(2)
	}
	d := net.Dialer{}
	if os.Args[2] == "off" {
		d.KeepAlive = -1
	}
	c, err := d.Dial("tcp", os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, "goclient:", err)
		os.Exit(1)
	}
	fmt.Println("ready")
	time.Sleep(30 * time.Second)
	c.Close()
}
