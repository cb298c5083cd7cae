// The CLI's entry: parse, check privileges, run one command, map any failure to a message and an exit code.
import { BpfError } from "../bpf/index.ts";
import { attach, detach, type Output, status, watch } from "./commands.ts";
import { ExitCode, exitCodeFor, UsageError } from "./exit-codes.ts";
import { HELP, parseCommandLine } from "./options.ts";
import { requirePrivileges } from "./privileges.ts";

export async function main(argv: string[], io: Output): Promise<number> {
  try {
    const { command, options } = parseCommandLine(argv);
    if (options.help || command === undefined) {
      (command === undefined && !options.help ? io.err : io.out)(HELP);
      return command === undefined && !options.help ? ExitCode.Usage : ExitCode.Ok;
    }
    requirePrivileges();
    if (command === "attach") attach(options, io);
    else if (command === "detach") detach(options, io);
    else if (command === "status") status(options, io);
    else {
      const stop = new AbortController();
      const onSignal = (): void => stop.abort();
      process.once("SIGINT", onSignal);
      process.once("SIGTERM", onSignal);
      try {
        await watch(options, io, stop.signal);
      } finally {
        process.off("SIGINT", onSignal);
        process.off("SIGTERM", onSignal);
      }
    }
    return ExitCode.Ok;
  } catch (err) {
    const code = exitCodeFor(err);
    if (err instanceof BpfError || err instanceof UsageError || code !== ExitCode.Internal) {
      io.err(`xdp-counter: ${(err as Error).message}`);
      if (err instanceof UsageError) io.err("run `xdp-counter --help` for usage");
    } else {
      io.err(
        `xdp-counter: internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`,
      );
    }
    return code;
  }
}
