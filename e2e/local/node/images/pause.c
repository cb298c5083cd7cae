// SPDX-License-Identifier: Apache-2.0
// The pause program: the first process of every pod sandbox. It holds the pod's namespaces open, reaps the
// zombies of processes that share its PID namespace, and exits 0 on SIGINT or SIGTERM (which the runtime
// sends when the sandbox stops). Built static (gcc -static) so the image needs no libc: one file, /pause.
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static void on_stop(int sig) {
  (void)sig;
  _exit(0);
}

static void on_child(int sig) {
  (void)sig;
  // Several children may end before the handler runs: reap until none is left.
  while (waitpid(-1, NULL, WNOHANG) > 0) {
  }
}

static void handle(int sig, void (*fn)(int), int flags) {
  struct sigaction sa;
  memset(&sa, 0, sizeof(sa));
  sa.sa_handler = fn;
  sa.sa_flags = flags;
  sigemptyset(&sa.sa_mask);
  if (sigaction(sig, &sa, NULL) != 0) _exit(1);
}

int main(void) {
  if (getpid() != 1) {
    static const char warning[] = "pause: not PID 1, so orphans of this pod are not reaped here\n";
    (void)!write(STDERR_FILENO, warning, sizeof(warning) - 1);
  }
  handle(SIGINT, on_stop, 0);
  handle(SIGTERM, on_stop, 0);
  // SA_NOCLDSTOP: a stopped child is not an ended one. SA_RESTART: pause() below is the only waiting call.
  handle(SIGCHLD, on_child, SA_NOCLDSTOP | SA_RESTART);
  for (;;) pause();
}
