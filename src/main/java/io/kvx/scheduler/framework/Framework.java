package io.kvx.scheduler.framework;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * One profile: a scheduler name and the plugins enabled at each extension point, in order, with score
 * weights. Runs the extension points; {@link io.kvx.scheduler.Scheduler} strings them into a cycle.
 * Pure: no I/O except through the {@link Cluster} handed to PreBind and Bind.
 */
public final class Framework {

  public record Weighted(ScorePlugin plugin, int weight) {}

  private final String schedulerName;
  private final List<PreFilterPlugin> preFilters = new ArrayList<>();
  private final List<FilterPlugin> filters = new ArrayList<>();
  private FilterPlugin[] allFilters = new FilterPlugin[0];
  private final List<PostFilterPlugin> postFilters = new ArrayList<>();
  private final List<PreScorePlugin> preScores = new ArrayList<>();
  private final List<Weighted> scores = new ArrayList<>();
  private final List<ReservePlugin> reserves = new ArrayList<>();
  private final List<PermitPlugin> permits = new ArrayList<>();
  private final List<PreBindPlugin> preBinds = new ArrayList<>();
  private final List<BindPlugin> binds = new ArrayList<>();
  private final Map<String, Plugin> plugins = new HashMap<>();
  private int percentageOfNodesToScore;

  public Framework(String schedulerName) {
    this.schedulerName = schedulerName;
  }

  /** Enables a plugin at every extension point it implements; {@code weight} applies if it scores. */
  public Framework add(Plugin p, int weight) {
    if (p instanceof PreFilterPlugin x) preFilters.add(x);
    if (p instanceof FilterPlugin x) addFilter(x);
    if (p instanceof PostFilterPlugin x) postFilters.add(x);
    if (p instanceof PreScorePlugin x) preScores.add(x);
    if (p instanceof ScorePlugin x && weight > 0) scores.add(new Weighted(x, weight));
    if (p instanceof ReservePlugin x) reserves.add(x);
    if (p instanceof PermitPlugin x) permits.add(x);
    if (p instanceof PreBindPlugin x) preBinds.add(x);
    if (p instanceof BindPlugin x) binds.add(x);
    plugins.put(p.name(), p);
    return this;
  }

  public Framework add(Plugin p) {
    return add(p, 1);
  }

  /** Enables a plugin at the named extension points only. */
  public Framework addAt(Plugin p, Set<String> points, int weight) {
    if (points.contains("preFilter") && p instanceof PreFilterPlugin x) preFilters.add(x);
    if (points.contains("filter") && p instanceof FilterPlugin x) addFilter(x);
    if (points.contains("postFilter") && p instanceof PostFilterPlugin x) postFilters.add(x);
    if (points.contains("preScore") && p instanceof PreScorePlugin x) preScores.add(x);
    if (points.contains("score") && p instanceof ScorePlugin x && weight > 0) scores.add(new Weighted(x, weight));
    if (points.contains("reserve") && p instanceof ReservePlugin x) reserves.add(x);
    if (points.contains("permit") && p instanceof PermitPlugin x) permits.add(x);
    if (points.contains("preBind") && p instanceof PreBindPlugin x) preBinds.add(x);
    if (points.contains("bind") && p instanceof BindPlugin x) binds.add(x);
    plugins.put(p.name(), p);
    return this;
  }

  private void addFilter(FilterPlugin f) {
    filters.add(f);
    allFilters = filters.toArray(FilterPlugin[]::new);
  }

  public Framework percentageOfNodesToScore(int pct) {
    this.percentageOfNodesToScore = pct;
    return this;
  }

  public int percentageOfNodesToScore() {
    return percentageOfNodesToScore;
  }

  public String schedulerName() {
    return schedulerName;
  }

  public Plugin plugin(String name) {
    return plugins.get(name);
  }

  public List<String> pluginNames(String point) {
    List<? extends Plugin> l = switch (point) {
      case "preFilter" -> preFilters;
      case "filter" -> filters;
      case "postFilter" -> postFilters;
      case "preScore" -> preScores;
      case "score" -> scores.stream().map(Weighted::plugin).toList();
      case "reserve" -> reserves;
      case "permit" -> permits;
      case "preBind" -> preBinds;
      case "bind" -> binds;
      default -> List.of();
    };
    return l.stream().map(Plugin::name).toList();
  }

  public List<Weighted> scorePlugins() {
    return scores;
  }

  /**
   * PreFilter: the first rejection ends the attempt; a SKIP also skips that plugin's Filter (the plugins left
   * are kept in the state as an array, so Filter does no lookup per node).
   */
  public Status runPreFilter(CycleState state, PodInfo pod, Snapshot snapshot) {
    Set<String> skipped = null;
    for (PreFilterPlugin p : preFilters) {
      Status s = p.preFilter(state, pod, snapshot);
      if (s.isSkip()) {
        if (skipped == null) skipped = new HashSet<>();
        skipped.add(p.name());
      } else if (!s.isSuccess()) {
        return s.withPlugin(p.name());
      }
    }
    if (skipped == null) {
      state.filters = allFilters;
    } else {
      List<FilterPlugin> run = new ArrayList<>(filters.size());
      for (FilterPlugin f : filters) if (!skipped.contains(f.name())) run.add(f);
      state.filters = run.toArray(FilterPlugin[]::new);
    }
    return Status.SUCCESS;
  }

  /** Filter: the first plugin that rejects the node names the reason. */
  public Status runFilters(CycleState state, PodInfo pod, NodeInfo node) {
    FilterPlugin[] run = state.filters != null ? state.filters : allFilters;
    for (FilterPlugin f : run) {
      Status s = f.filter(state, pod, node);
      if (!s.isSuccess()) return s.withPlugin(f.name());
    }
    return Status.SUCCESS;
  }

  public boolean hasPostFilters() {
    return !postFilters.isEmpty();
  }

  public PostFilterPlugin.Result runPostFilter(CycleState state, PodInfo pod, Snapshot snapshot,
                                               Map<String, Status> filtered) {
    PostFilterPlugin.Result last = PostFilterPlugin.Result.failed(Status.unschedulable());
    for (PostFilterPlugin p : postFilters) {
      PostFilterPlugin.Result r = p.postFilter(state, pod, snapshot, filtered);
      if (r.status().isSuccess()) return r;
      last = r;
    }
    return last;
  }

  /**
   * PreScore, then Score and NormalizeScore per plugin, then the weighted sum per node: {@code result[i]} is the
   * total of {@code feasible.get(i)}.
   */
  public long[] runScore(CycleState state, PodInfo pod, List<NodeInfo> feasible, Snapshot snapshot) {
    Set<String> skipped = null;
    for (PreScorePlugin p : preScores) {
      Status s = p.preScore(state, pod, feasible, snapshot);
      if (s.isSkip()) {
        if (skipped == null) skipped = new HashSet<>();
        skipped.add(p.name());
      }
    }
    int n = feasible.size();
    long[] total = new long[n];
    long[] s = new long[n];
    for (Weighted w : scores) {
      ScorePlugin plugin = w.plugin();
      if (skipped != null && skipped.contains(plugin.name())) continue;
      for (int i = 0; i < n; i++) s[i] = plugin.score(state, pod, feasible.get(i));
      plugin.normalizeScore(state, pod, feasible, s);
      long weight = w.weight();
      for (int i = 0; i < n; i++) total[i] += Math.max(0, Math.min(ScorePlugin.MAX_SCORE, s[i])) * weight;
    }
    return total;
  }

  public Status runReserve(CycleState state, PodInfo pod, String node) {
    for (int i = 0; i < reserves.size(); i++) {
      Status s = reserves.get(i).reserve(state, pod, node);
      if (!s.isSuccess()) {
        for (int j = i; j >= 0; j--) reserves.get(j).unreserve(state, pod, node);
        return s.withPlugin(reserves.get(i).name());
      }
    }
    return Status.SUCCESS;
  }

  public void runUnreserve(CycleState state, PodInfo pod, String node) {
    for (int j = reserves.size() - 1; j >= 0; j--) reserves.get(j).unreserve(state, pod, node);
  }

  public Status runPermit(CycleState state, PodInfo pod, String node) {
    Status result = Status.SUCCESS;
    for (PermitPlugin p : permits) {
      Status s = p.permit(state, pod, node);
      if (s.isRejected() || s.code() == Status.Code.ERROR) return s.withPlugin(p.name());
      if (s.code() == Status.Code.WAIT) result = s.withPlugin(p.name());
    }
    return result;
  }

  /** PreBind plugins in order, then Bind plugins until one does not SKIP. */
  public CompletionStage<Status> runPreBindAndBind(CycleState state, PodInfo pod, String node, Cluster cluster) {
    CompletionStage<Status> chain = CompletableFuture.completedFuture(Status.SUCCESS);
    for (PreBindPlugin p : preBinds) {
      chain = chain.thenCompose(s -> s.isSuccess() ? p.preBind(state, pod, node, cluster)
          .thenApply(r -> r.withPlugin(p.name())) : CompletableFuture.completedFuture(s));
    }
    return chain.thenCompose(s -> s.isSuccess() ? bind(0, state, pod, node, cluster)
        : CompletableFuture.completedFuture(s));
  }

  private CompletionStage<Status> bind(int i, CycleState state, PodInfo pod, String node, Cluster cluster) {
    if (i >= binds.size()) return CompletableFuture.completedFuture(Status.error("no bind plugin bound the pod"));
    BindPlugin b = binds.get(i);
    return b.bind(state, pod, node, cluster).thenCompose(s -> s.isSkip() ? bind(i + 1, state, pod, node, cluster)
        : CompletableFuture.completedFuture(s.withPlugin(b.name())));
  }
}
