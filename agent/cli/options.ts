// Command-line parsing and validation. Every bad value is refused with a message that names the flag.
import { parseArgs } from "node:util";
import { z } from "zod";
import { ATTACH_MODES, COUNTER_ACTIONS, DEFAULT_PIN_ROOT } from "../bpf/index.ts";
import { parseDuration } from "./duration.ts";
import { UsageError } from "./exit-codes.ts";

export const COMMANDS = ["attach", "detach", "status", "watch"] as const;
export type Command = (typeof COMMANDS)[number];

const IFACE = /^[^\s/:]{1,15}$/;

const Options = z.object({
  iface: z
    .array(
      z.string().regex(IFACE, {
        error: (i) =>
          `--iface ${JSON.stringify(i.input)} is not an interface name (1-15 characters, no '/', ':' or spaces)`,
      }),
    )
    .default([]),
  mode: z
    .enum(ATTACH_MODES, {
      error: (i) => `--mode must be one of ${ATTACH_MODES.join(", ")}, not ${JSON.stringify(i.input)}`,
    })
    .default("auto"),
  action: z
    .enum(COUNTER_ACTIONS, {
      error: (i) => `--action must be one of ${COUNTER_ACTIONS.join(", ")}, not ${JSON.stringify(i.input)}`,
    })
    .default("pass"),
  interval: z
    .string()
    .default("1s")
    .transform((text, ctx) => {
      const ms = parseDuration(text);
      if (ms === undefined || ms < 100 || ms > 3_600_000) {
        ctx.addIssue({
          code: "custom",
          message: `--interval ${JSON.stringify(text)} must be a duration from 100ms to 1h, such as 500ms, 1s or 2m`,
        });
        return z.NEVER;
      }
      return ms;
    }),
  count: z
    .string()
    .optional()
    .transform((text, ctx) => {
      if (text === undefined) return undefined;
      const n = Number(text);
      if (!Number.isSafeInteger(n) || n < 1) {
        ctx.addIssue({
          code: "custom",
          message: `--count ${JSON.stringify(text)} must be a whole number of intervals, 1 or more`,
        });
        return z.NEVER;
      }
      return n;
    }),
  json: z.boolean().default(false),
  keep: z.boolean().default(false),
  all: z.boolean().default(false),
  "pin-root": z.string().default(process.env.XDP_COUNTER_PIN_ROOT ?? DEFAULT_PIN_ROOT),
  help: z.boolean().default(false),
});
export type Options = z.infer<typeof Options>;

const ALLOWED: Record<Command, ReadonlySet<string>> = {
  attach: new Set(["iface", "mode", "action", "json"]),
  detach: new Set(["iface", "all", "json"]),
  status: new Set(["iface", "json"]),
  watch: new Set(["iface", "mode", "action", "interval", "count", "json", "keep"]),
};
const GLOBAL = new Set(["pin-root", "help"]);

export interface Invocation {
  command: Command | undefined;
  options: Options;
}

export function parseCommandLine(argv: string[]): Invocation {
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        iface: { type: "string", short: "i", multiple: true },
        mode: { type: "string", short: "m" },
        action: { type: "string", short: "a" },
        interval: { type: "string" },
        count: { type: "string" },
        json: { type: "boolean" },
        keep: { type: "boolean" },
        all: { type: "boolean" },
        "pin-root": { type: "string" },
        help: { type: "boolean", short: "h" },
      },
    });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const [word, ...extra] = parsed.positionals;
  if (word !== undefined && !(COMMANDS as readonly string[]).includes(word)) {
    throw new UsageError(`unknown command ${JSON.stringify(word)}; commands: ${COMMANDS.join(", ")}`);
  }
  if (extra.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(extra[0])}`);
  const command = word as Command | undefined;
  if (command) {
    for (const flag of Object.keys(parsed.values)) {
      if (!ALLOWED[command].has(flag) && !GLOBAL.has(flag))
        throw new UsageError(`${command} takes no --${flag}`);
    }
  }
  const result = Options.safeParse(parsed.values);
  if (!result.success) throw new UsageError(result.error.issues.map((i) => i.message).join("; "));
  const options = result.data;
  if (!options.help) {
    if ((command === "attach" || command === "watch") && options.iface.length === 0) {
      throw new UsageError(`${command} needs at least one --iface`);
    }
    if (command === "detach" && options.iface.length === 0 && !options.all) {
      throw new UsageError("detach needs --iface NAME (repeatable) or --all");
    }
  }
  if (new Set(options.iface).size !== options.iface.length) throw new UsageError("an --iface is given twice");
  return { command, options };
}

export const HELP = `xdp-counter: count every packet by XDP action, exactly, on the interfaces you name.

Usage:
  xdp-counter attach --iface NAME... [--mode auto|native|generic] [--action pass|drop] [--json]
  xdp-counter detach (--iface NAME... | --all) [--json]
  xdp-counter status [--iface NAME...] [--json]
  xdp-counter watch  --iface NAME... [--mode M] [--action A] [--interval 1s] [--count N] [--json] [--keep]

Commands:
  attach   load the counter onto each interface and leave it counting (pinned under bpffs); an interface
           already counting keeps its totals
  detach   remove the counter from each interface, print the final totals, and remove its pins
  status   show every counter pinned by this CLI: attached or not, mode, action, totals
  watch    attach, then print a live table (packets, bytes, packets/s, bits/s per interface and action)
           every interval; Ctrl-C detaches what watch itself attached, unless --keep

Options:
  -i, --iface NAME      interface to count on; repeat for several
  -m, --mode MODE       auto (native XDP, falling back to generic), native, or generic   [auto]
  -a, --action ACTION   what every packet gets: pass or drop                              [pass]
      --interval D      watch: how often to print, e.g. 500ms, 1s, 2m                    [1s]
      --count N         watch: stop after N intervals
      --json            one JSON object per result (watch: per interval); counters are decimal strings
      --keep            watch: leave the counters attached on exit
      --all             detach: every interface this CLI counts on
      --pin-root DIR    where pins live (env XDP_COUNTER_PIN_ROOT)         [/sys/fs/bpf/xdp-counter]
  -h, --help            this help

Exit codes:
  0 success   1 internal error   2 bad usage   3 machine not ready (not root, no bpffs, missing object)
  4 interface missing or lacks the mode demanded   5 another XDP program is attached   6 the kernel refused
`;
