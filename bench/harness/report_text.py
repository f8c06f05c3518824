"""The words of a sweep's report (make_report.py): one line per method, made from its settings, the
metrics' definitions (as docs/bench.md and bench/harness/metrics.hpp give them), and which metrics
mean nothing for a method."""

OPTIMIZERS = {"sgd": "SGD", "momentum": "SGD with momentum", "adam": "Adam", "rmsprop": "RMSprop"}
# Settings every method of a sweep usually shares: said once in the report's header, not per method.
SHARED = {"batch_size", "eval_every", "eval_per_task", "iterations_per_task", "train_per_task",
          "num_tasks", "gap_epsilon", "gap_window", "ngm_placement", "ngm_eta"}

# (key, column title, definition): the summary table's metrics.
METRICS = [
    ("acc", "ACC", "final accuracy averaged over the tasks: mean_j R[T][j], R[i][j] being the "
     "accuracy on task j after training on task i (Lopez-Paz & Ranzato 2017)"),
    ("bwt", "BWT", "backward transfer: mean over j < T of R[T][j] - R[j][j]; negative is "
     "forgetting (Lopez-Paz & Ranzato 2017)"),
    ("fwt", "FWT", "forward transfer: mean over j >= 2 of R[j-1][j] - b_j, b_j the accuracy on task "
     "j before any training (Lopez-Paz & Ranzato 2017)"),
    ("forgetting", "forgetting", "mean over j < T of max_l R[l][j] - R[T][j] (Chaudhry et al. "
     "2018)"),
    ("avg_sg", "avg-SG", "stability gap: at each switch k, SG_k = (A before the switch - lowest A "
     "during the next task) / A before the switch, on the first task's curve A; averaged over the "
     "switches, then over seeds (each seed's own gap). The first plot draws each SG_k"),
    ("avg_sg_of_mean_curve", "avg-SG of mean", "the stability gap of the seeds' mean first-task "
     "curve: the curves averaged first, then SG_k taken and averaged over the switches, as arXiv "
     "2507.14056 quotes it; averaging smooths dips that the seeds take at different moments, so it "
     "is often well under the per-seed avg-SG"),
    ("min_acc", "min-ACC", "for each earlier task, the lowest accuracy after it was learned, "
     "averaged (De Lange et al. 2023)"),
    ("wc_acc", "WC-ACC", "worst-case accuracy: (1/k) A_k(now) + (1 - 1/k) min-ACC (De Lange et al. "
     "2023)"),
    ("gap_depth", "gap depth", "baseline - lowest A after the switch, the baseline being the mean "
     "of the last 5 evaluations before it (first task)"),
    ("gap_recovery", "recovery (it)", "iterations from the switch until the 5-point smoothed curve "
     "is back within epsilon of the baseline (censored at the task's end)"),
    ("gap_area", "gap area", "sum over the next task's evaluations of max(0, baseline - A)"),
    ("mean_gain", "mean gain", "NGM's weight gain averaged over the run (NGM and its controls)"),
    ("parameter_count", "params", "trainable parameters"),
    ("bytes_per_task", "bytes/task", "memory each further task adds (a context, a head)"),
    ("steps_per_second", "steps/s", "training iterations per second of training time"),
]

# Metrics of a sequence: meaningless for a method that trains a fresh network on every task.
SEQUENCE_METRICS = {"acc", "bwt", "fwt", "forgetting", "avg_sg", "avg_sg_of_mean_curve", "min_acc",
                    "wc_acc", "gap_depth", "gap_recovery", "gap_area"}


def not_meaningful(settings):
    """The metrics that mean nothing for a method with these settings, and why (or empty)."""
    if settings.get("separate"):
        return SEQUENCE_METRICS, ("a fresh network for every task learns no sequence: its R[j][j] "
                                  "is the reference of each task learned alone")
    return set(), ""


def describe(settings, varying):
    """One line for a method: its network, how it learns the sequence, its optimizer; then the
    settings in `varying` (those that differ between the sweep's methods) not said already."""
    said = set()

    def take(key, default=None):
        said.add(key)
        return settings.get(key, default)

    hidden = take("hidden")
    widths = "-".join(str(h) for h in hidden) if isinstance(hidden, list) else hidden
    network = take("network", "mlp")
    if network == "modulated":
        parts = [f"fixed random weights ({widths}) with a small learned context per task"]
    elif network == "mlp":
        parts = [f"a trainable MLP ({widths})"]
    else:
        parts = [f"network {network}" + (f" ({widths})" if widths else "")]
    stream, scenario = take("stream"), take("scenario")
    if stream or scenario:
        parts.append(", ".join(str(p) for p in (stream, scenario) if p))
    if take("separate"):
        parts.append("started afresh for every task (each task alone)")
    elif take("joint"):
        parts.append("every earlier task replayed (incremental joint training)")
    memory = take("replay_memory")
    if memory:
        kind = "class-balanced memory" if take("replay_balanced") else "reservoir"
        batch = take("replay_batch")
        alpha, beta = take("der_alpha") or 0, take("der_beta") or 0
        what = ("DER++" if beta else "DER") if alpha or beta else "experience replay"
        weights = ", ".join(f"{name} {value:g}" for name, value in
                            (("alpha", alpha), ("beta", beta)) if value)
        parts.append(f"{what} from a {kind} of {memory} examples"
                     + (f" ({weights})" if weights else "")
                     + (f", {batch} per step" if batch else ""))
    ewc = take("ewc_lambda")
    if ewc:
        online = take("ewc_online")
        parts.append(f"{'online ' if online else ''}EWC (lambda {ewc:g}"
                     + (f", gamma {take('ewc_gamma', 1.0):g}" if online else "") + ")")
    optimizer = take("optimizer")
    if optimizer:
        lr = take("lr")
        parts.append(OPTIMIZERS.get(optimizer, optimizer) + (f" lr {lr:g}" if lr is not None else ""))
    if take("ngm"):
        parts.append(f"NGM gain (eta {settings.get('ngm_eta', '?')})")
    source = take("fixed_gain_from")
    if source:
        parts.append(f"control: the gain held at {source}'s mean gain")
    source = take("matched_lr_from")
    if source:
        parts.append(f"control: the learning rate scaled by {source}'s mean gain")
    others = [f"{key} {settings[key]}" for key in sorted(varying)
              if key in settings and key not in said and key not in SHARED]
    return "; ".join(parts + others)


def varying_settings(settings_list):
    """The keys whose values differ between methods (or that only some methods have)."""
    keys = set().union(*settings_list) if settings_list else set()
    return {k for k in keys if len({repr(s.get(k)) for s in settings_list}) > 1}


def shared_settings_text(settings_list):
    """What every method shares, for the report's header: "batch_size 64, eval_every 5, ..."."""
    if not settings_list:
        return ""
    first = settings_list[0]
    same = [k for k in sorted(SHARED) if k in first
            and all(repr(s.get(k)) == repr(first[k]) for s in settings_list)]
    return ", ".join(f"{k} {first[k]}" for k in same)
