// A small Go program of the kind that waits: it prints a line, sleeps 20 times 1 ms (Go's
// runtime waits in poll_oneoff), then echoes one line of stdin (or says it had none). Go keeps
// no shadow-stack pointer that asyncify recognises, so wasio runs it in fiber or JSPI mode
// (bench/engines.sh measures both; the tests run it in each mode the engine has).
package main

import (
	"bufio"
	"fmt"
	"os"
	"time"
)

func main() {
	fmt.Println("go: started")
	for i := 0; i < 20; i++ {
		time.Sleep(time.Millisecond)
	}
	line, err := bufio.NewReader(os.Stdin).ReadString('\n')
	if err != nil && line == "" {
		fmt.Println("go: no input")
		return
	}
	fmt.Print("go: read ", line)
}
