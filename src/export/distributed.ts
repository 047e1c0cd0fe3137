/**
 * The data-parallel form of an exported training script (`gradwire export-torch --distributed`): the same
 * tensors, code and printed lines as the one-process script, run by one or many processes that each train on an
 * equal share of the data's rows, with the gradients averaged by DistributedDataParallel.
 *
 * How a script becomes distributed: everything the plain script runs at module level moves into
 * `train(rank, world_size, args)`; the values the per-epoch code reads whose first dimension is the rows of the
 * loss's input are cut to this process's share (`shard`); the trained tensors become the parameters of a small
 * `nn.Module` whose forward is the per-epoch code, wrapped in DistributedDataParallel, and the graph's nn module
 * objects (`fc = nn.Linear(...)`, which own their tensors) its submodules. The loss printed is the
 * mean over the processes of their losses: with equal shards and a mean-reduced loss, the mean of the shards'
 * means is the full mean, so N processes print what one prints (to float rounding).
 *
 * Launch: under torchrun (RANK, WORLD_SIZE, MASTER_ADDR... in the environment) it joins that process group;
 * with `--nproc N` it starts N local processes itself (torch.multiprocessing.spawn); otherwise it runs as one
 * process, exactly as the plain script. `--checkpoint DIR` saves the parameters, the optimizers' state and the
 * random state after every epoch (rank 0, atomically), and `--resume` continues from the last one.
 */

/** Lines moved right by `prefix` (the lines may hold several). */
function indent(lines: readonly string[], prefix = "    "): string[] {
  return lines.flatMap((l) => l.split("\n")).map((l) => (l === "" ? l : prefix + l));
}

/** Names the distributed script's own code uses at module level or in `train` (reserved before any node's). */
export const DISTRIBUTED_NAMES = [
  "os",
  "socket",
  "dist",
  "mp",
  "DistributedDataParallel",
  "shard",
  "stop",
  "train",
  "free_port",
  "rank",
  "world_size",
  "distributed",
  "local_rank",
  "Graph",
  "graph",
  "model",
  "checkpoint",
  "state",
  "start",
  "reported",
  "trained",
  "name",
  "t",
  "what",
] as const;

export interface DistributedParts {
  /** The plain script's pieces, in its order: the argument parser, setup (tensors, parameters), functions, once. */
  parser: string[];
  setup: string[];
  functions: string[][];
  once: string[];
  optimizers: string[];
  /** The per-epoch forward code. */
  forward: string[];
  /** Trained tensors: the variable holding each (`W`, `fc.weight`), and its id in the printed lines. */
  trained: { variable: string; id: string }[];
  /** The trained tensors that are plain variables (`W`), not an nn module object's (`fc.weight`). */
  tensors: string[];
  /** The nn module objects the script makes (`fc`): the forward module's submodules. */
  modules: string[];
  /** Values the forward code reads that are cut to this process's rows. */
  sharded: string[];
  /** The rows they share (for the docstring and the error when they do not divide evenly). */
  rows: number | undefined;
  /** Each optimizer's variable, and whether it zeroes gradients before backward. */
  optimizerVars: { variable: string; zeroGrad: boolean }[];
  /** The loss the optimizer backpropagates from, and the value printed each epoch. */
  loss: string;
  objective: string;
  /** `"id": variable.flatten().tolist()` for each trained tensor: the printed line's params. */
  printedParams: string[];
}

/** The docstring's paragraph on running the script. */
export function distributedUsage(parts: Pick<DistributedParts, "sharded" | "rows">): string {
  const data =
    parts.sharded.length > 0 && parts.rows !== undefined
      ? `Each process trains on an equal share of the ${parts.rows} rows of ${parts.sharded.join(", ")}, so the number of processes must divide ${parts.rows}.`
      : "Every process trains on the whole data (no value has the loss's rows to divide).";
  return [
    "Data-parallel: run it as one process (`python3 train.py`), as N local processes (`python3 train.py --nproc N`:",
    "gloo on the CPU, nccl with --device cuda, one GPU each), or under torchrun on one machine or many",
    "(`torchrun --nproc_per_node N train.py`, with --nnodes and --rdzv-endpoint for a cluster).",
    `${data} Gradients are averaged by DistributedDataParallel, and the loss printed is the mean of the`,
    "processes' losses: with a mean-reduced loss it is what one process prints. Only rank 0 prints.",
    "--checkpoint DIR saves every epoch; --resume continues from the last checkpoint.",
  ].join(" ");
}

const SHARD = [
  "def stop(rank, message):",
  '    """End the run as gradwire does: the message (once, from rank 0) and exit status 1."""',
  "    if rank == 0:",
  "        print(message, file=sys.stderr)",
  "    sys.exit(1)",
  "",
  "",
  "def shard(t, rank, world_size):",
  '    """This process\'s rows of t: an equal share of them, in order."""',
  "    if t.shape[0] % world_size != 0:",
  '        stop(rank, f"{t.shape[0]} rows cannot be divided evenly among {world_size} processes")',
  "    n = t.shape[0] // world_size",
  "    return t[rank * n : (rank + 1) * n]",
  "",
  "",
  "def free_port():",
  '    """A free TCP port on this machine, for the processes --nproc starts to meet on."""',
  "    with socket.socket() as s:",
  '        s.bind(("127.0.0.1", 0))',
  "        return s.getsockname()[1]",
];

/** The module-level definitions the distributed script adds. */
export function distributedHelpers(): string[] {
  return SHARD;
}

/** The extra command-line flags. */
export function distributedFlags(): string[] {
  return [
    'parser.add_argument("--nproc", type=int, default=1, help="start this many local processes (without torchrun)")',
    'parser.add_argument("--checkpoint", metavar="DIR", help="save a checkpoint here after every epoch")',
    'parser.add_argument("--resume", action="store_true", help="continue from the checkpoint in --checkpoint DIR")',
  ];
}

/** `train(rank, world_size, args)` and the launcher under `if __name__ == "__main__":`. */
export function distributedMain(p: DistributedParts): string[][] {
  const params = p.tensors;
  const paramDict = params.map((v) => `"${v}": torch.nn.Parameter(${v}.detach())`);
  const bind = params.join(", ");
  const fromDict = params.map((v) => `self.p["${v}"]`).join(", ");
  const graphParams = params.map((v) => `graph.p["${v}"]`).join(", ");
  const body: string[] = [
    "distributed = world_size > 1",
    'if args.device == "cuda":',
    '    local_rank = int(os.environ.get("LOCAL_RANK", rank))',
    "    torch.cuda.set_device(local_rank)",
    '    device = torch.device("cuda", local_rank)',
    "else:",
    '    device = torch.device("cpu")',
    "if distributed:",
    '    dist.init_process_group("nccl" if args.device == "cuda" else "gloo", rank=rank, world_size=world_size)',
    ...p.setup,
    ...p.functions.flatMap((f) => [...f, ""]),
    ...p.once,
    ...(p.sharded.length > 0
      ? [
          "# This process's share of the rows.",
          ...p.sharded.map((v) => `${v} = shard(${v}, rank, world_size)`),
        ]
      : []),
    "",
    "class Graph(torch.nn.Module):",
    '    """The trained tensors as parameters; forward is one epoch\'s forward pass on this process\'s rows."""',
    "",
    "    def __init__(self):",
    "        super().__init__()",
    ...(params.length > 0
      ? [
          "        self.p = torch.nn.ParameterDict({",
          ...paramDict.map((d) => `            ${d},`),
          "        })",
        ]
      : []),
    // Held as submodules so that DistributedDataParallel averages their gradients and the checkpoint saves
    // them (their buffers too); forward calls the same objects by their names.
    ...(p.modules.length > 0 ? [`        self.layers = torch.nn.ModuleList([${p.modules.join(", ")}])`] : []),
    "",
    "    def forward(self):",
    ...(params.length > 0 ? [`        ${bind} = ${fromDict}`] : []),
    ...indent(p.forward, "        "),
    `        return ${p.loss}, ${p.objective}`,
    "",
    "graph = Graph().to(device)",
    "model = DistributedDataParallel(graph) if distributed else graph",
    "# The optimizers train the module's parameters.",
    ...(params.length > 0 ? [`${bind} = ${graphParams}`] : []),
    ...p.optimizers,
    `trained = {${p.trained.map((t) => `"${t.id}": ${t.variable}`).join(", ")}}`,
    'checkpoint = os.path.join(args.checkpoint, "checkpoint.pt") if args.checkpoint else None',
    "start = 0",
    "if args.resume:",
    "    if checkpoint is None:",
    '        stop(rank, "--resume needs --checkpoint DIR: the folder a run saved its checkpoint in")',
    "    if not os.path.exists(checkpoint):",
    '        stop(rank, f"--resume: there is no checkpoint in {args.checkpoint} (no {checkpoint})")',
    "    state = torch.load(checkpoint, map_location=device)",
    '    graph.load_state_dict(state["graph"])',
    ...p.optimizerVars.map((o, i) => `    ${o.variable}.load_state_dict(state["optimizers"][${i}])`),
    '    torch.set_rng_state(state["rng"])',
    '    start = state["epoch"] + 1',
    "for epoch in range(start, args.epochs):",
    `    ${p.loss}, ${p.objective} = model()`,
    "    # The loss reported: the mean of the processes' losses (each the mean over its rows).",
    `    reported = ${p.objective}.detach().clone()`,
    "    if distributed:",
    "        dist.all_reduce(reported)",
    "        reported /= world_size",
    "    if not math.isfinite(reported.item()):",
    '        stop(rank, f"epoch {epoch}: the loss became {reported.item()}")',
    ...p.optimizerVars.map((o) =>
      o.zeroGrad
        ? `    ${o.variable}.zero_grad()`
        : "    # zero_grad is off in the graph: gradients accumulate across epochs",
    ),
    `    ${p.loss}.backward()`,
    "    # DistributedDataParallel has averaged the gradients: every process sees the same ones, and stops alike.",
    "    for name, t in trained.items():",
    "        if t.grad is not None and not t.grad.isfinite().all():",
    '            what = "nan" if t.grad.isnan().any() else "inf"',
    "            stop(",
    "                rank,",
    "                f\"epoch {epoch}: the gradient of '{name}' became {what}; no step was taken, \"",
    '                "the parameters keep their values from before this epoch",',
    "            )",
    ...p.optimizerVars.map((o) => `    ${o.variable}.step()`),
    "    if rank == 0:",
    "        print(json.dumps({",
    '            "epoch": epoch,',
    '            "loss": reported.item(),',
    '            "params": {',
    ...p.printedParams.map((x) => `                ${x},`),
    "            },",
    "        }), flush=True)",
    "    if checkpoint is not None and rank == 0:",
    "        os.makedirs(args.checkpoint, exist_ok=True)",
    "        state = {",
    '            "epoch": epoch,',
    '            "graph": graph.state_dict(),',
    `            "optimizers": [${p.optimizerVars.map((o) => `${o.variable}.state_dict()`).join(", ")}],`,
    '            "rng": torch.get_rng_state(),',
    "        }",
    '        torch.save(state, checkpoint + ".tmp")',
    '        os.replace(checkpoint + ".tmp", checkpoint)',
    "if distributed:",
    "    dist.destroy_process_group()",
  ];
  return [
    p.parser,
    [
      "def train(rank, world_size, args):",
      '    """Train on this process\'s share of the data, printing (on rank 0) a JSON line per epoch."""',
      ...indent(body),
    ],
    [
      'if __name__ == "__main__":',
      "    args = parser.parse_args()",
      '    if "RANK" in os.environ and "WORLD_SIZE" in os.environ:',
      "        # Under torchrun: it started this process and says which one it is.",
      '        train(int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"]), args)',
      "    elif args.nproc > 1:",
      '        os.environ.setdefault("MASTER_ADDR", "127.0.0.1")',
      '        os.environ.setdefault("MASTER_PORT", str(free_port()))',
      "        try:",
      "            mp.spawn(train, args=(args.nproc, args), nprocs=args.nproc)",
      "        except mp.ProcessExitedException:",
      "            sys.exit(1)  # a process stopped the run; rank 0 said why",
      "    else:",
      "        train(0, 1, args)",
    ],
  ];
}
