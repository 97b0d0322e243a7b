package io.kvx.scheduler;

import io.kvx.scheduler.framework.Framework;
import io.kvx.scheduler.framework.Plugin;
import io.kvx.scheduler.framework.Registry;
import tools.jackson.dataformat.yaml.YAMLMapper;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The scheduler's configuration as data: a KubeSchedulerConfiguration (profiles, each a schedulerName,
 * plugins enabled and disabled per extension point or at multiPoint, score weights, pluginConfig args)
 * or a legacy Policy (predicates and priorities with weights), turned into one {@link Framework} per
 * profile. Defaults live here and in {@link Plugins#DEFAULTS}.
 */
public final class SchedulerConfig {

  public static final List<String> POINTS = List.of("preFilter", "filter", "postFilter", "preScore", "score",
      "reserve", "permit", "preBind", "bind");
  public static final long DEFAULT_INITIAL_BACKOFF_MS = 1000;
  public static final long DEFAULT_MAX_BACKOFF_MS = 10_000;

  private final List<Framework> profiles;
  private final long initialBackoffMs;
  private final long maxBackoffMs;
  private final LeaderElection leaderElection;

  /**
   * KubeSchedulerConfiguration's leaderElection block. Kubernetes' defaults are a 15 s lease and a 2 s retry
   * period; kvx keeps its own shorter defaults (given by the verticle's config) where the file says nothing, so
   * a failover takes seconds. A second scheduler process serving another profile must name its own
   * resourceName, as in Kubernetes, or it waits behind the first one's Lease.
   */
  public record LeaderElection(Boolean leaderElect, String resourceNamespace, String resourceName,
      Long leaseDurationMs, Long retryPeriodMs) {
    static final LeaderElection UNSET = new LeaderElection(null, null, null, null, null);
  }

  private SchedulerConfig(List<Framework> profiles, long initialBackoffMs, long maxBackoffMs,
      LeaderElection leaderElection) {
    this.profiles = profiles;
    this.initialBackoffMs = initialBackoffMs;
    this.maxBackoffMs = maxBackoffMs;
    this.leaderElection = leaderElection;
  }

  public LeaderElection leaderElection() {
    return leaderElection;
  }

  public List<Framework> profiles() {
    return profiles;
  }

  public long initialBackoffMs() {
    return initialBackoffMs;
  }

  public long maxBackoffMs() {
    return maxBackoffMs;
  }

  /** The default profile under a scheduler name. */
  public static SchedulerConfig defaults(String schedulerName) {
    return new SchedulerConfig(List.of(build(schedulerName, defaultEntries(), Map.of(), 0, Plugins.registry())),
        DEFAULT_INITIAL_BACKOFF_MS, DEFAULT_MAX_BACKOFF_MS, LeaderElection.UNSET);
  }

  /** Parses a KubeSchedulerConfiguration or Policy document (YAML or JSON text). */
  @SuppressWarnings("unchecked")
  public static SchedulerConfig parse(String text, String defaultSchedulerName) {
    Object doc = YAMLMapper.builder().build().readValue(text, Object.class);
    if (!(doc instanceof Map)) throw new IllegalArgumentException("scheduler configuration is not an object");
    return fromMap((Map<String, Object>) doc, defaultSchedulerName);
  }

  @SuppressWarnings("unchecked")
  public static SchedulerConfig fromMap(Map<String, Object> doc, String defaultSchedulerName) {
    Registry registry = Plugins.registry();
    String kind = String.valueOf(doc.getOrDefault("kind", "KubeSchedulerConfiguration"));
    if (kind.equals("Policy")) {
      return new SchedulerConfig(List.of(policy(doc, defaultSchedulerName, registry)), DEFAULT_INITIAL_BACKOFF_MS,
          DEFAULT_MAX_BACKOFF_MS, LeaderElection.UNSET);
    }
    if (!kind.equals("KubeSchedulerConfiguration")) {
      throw new IllegalArgumentException("unknown scheduler configuration kind " + kind);
    }
    int pct = Plugins.num(doc.get("percentageOfNodesToScore"), 0);
    List<Framework> out = new ArrayList<>();
    List<Object> profiles = (List<Object>) doc.getOrDefault("profiles", List.of());
    if (profiles.isEmpty()) profiles = List.of(Map.of());
    Set<String> names = new LinkedHashSet<>();
    for (Object o : profiles) {
      Map<String, Object> p = (Map<String, Object>) o;
      String name = String.valueOf(p.getOrDefault("schedulerName", defaultSchedulerName));
      if (!names.add(name)) throw new IllegalArgumentException("duplicate profile " + name);
      LinkedHashMap<String, Entry> entries = defaultEntries();
      apply(entries, (Map<String, Object>) p.getOrDefault("plugins", Map.of()), registry);
      Map<String, Map<String, Object>> args = new HashMap<>();
      for (Object c : (List<Object>) p.getOrDefault("pluginConfig", List.of())) {
        Map<String, Object> pc = (Map<String, Object>) c;
        args.put(String.valueOf(pc.get("name")), (Map<String, Object>) pc.getOrDefault("args", Map.of()));
      }
      int profilePct = Plugins.num(p.get("percentageOfNodesToScore"), pct);
      out.add(build(name, entries, args, profilePct, registry));
    }
    long initial = Plugins.num(doc.get("podInitialBackoffSeconds"), 1) * 1000L;
    long max = Plugins.num(doc.get("podMaxBackoffSeconds"), 10) * 1000L;
    return new SchedulerConfig(List.copyOf(out), initial, max,
        leaderElection((Map<String, Object>) doc.getOrDefault("leaderElection", Map.of())));
  }

  private static LeaderElection leaderElection(Map<String, Object> le) {
    Object elect = le.get("leaderElect");
    return new LeaderElection(elect == null ? null : Boolean.valueOf(String.valueOf(elect)),
        (String) le.get("resourceNamespace"), (String) le.get("resourceName"),
        duration(le.get("leaseDuration"), "leaderElection.leaseDuration"),
        duration(le.get("retryPeriod"), "leaderElection.retryPeriod"));
  }

  /** A metav1.Duration as the configuration writes it ("15s", "500ms", "1m30s"), in milliseconds; null if absent. */
  static Long duration(Object v, String field) {
    if (v == null) return null;
    java.util.regex.Matcher m = java.util.regex.Pattern.compile("(\\d+(?:\\.\\d+)?)(ms|s|m|h)").matcher(String.valueOf(v));
    double ms = 0;
    int end = 0;
    while (m.find()) {
      if (m.start() != end) break;
      double n = Double.parseDouble(m.group(1));
      ms += n * switch (m.group(2)) {
        case "ms" -> 1;
        case "s" -> 1000;
        case "m" -> 60_000;
        default -> 3_600_000;
      };
      end = m.end();
    }
    if (end == 0 || end != String.valueOf(v).length()) {
      throw new IllegalArgumentException(field + ": invalid duration \"" + v + "\" (use e.g. 15s, 500ms, 1m)");
    }
    return (long) ms;
  }

  /** A plugin in a profile: the extension points it runs at and its score weight. */
  private static final class Entry {
    final Set<String> points = new LinkedHashSet<>();
    int weight;

    Entry(Set<String> points, int weight) {
      this.points.addAll(points);
      this.weight = weight;
    }
  }

  private static LinkedHashMap<String, Entry> defaultEntries() {
    LinkedHashMap<String, Entry> m = new LinkedHashMap<>();
    for (Plugins.Enabled e : Plugins.DEFAULTS) m.put(e.name(), new Entry(Set.copyOf(POINTS), e.weight()));
    return m;
  }

  @SuppressWarnings("unchecked")
  private static void apply(LinkedHashMap<String, Entry> entries, Map<String, Object> plugins, Registry registry) {
    Map<String, Object> multi = (Map<String, Object>) plugins.get("multiPoint");
    if (multi != null) {
      for (Map<String, Object> d : list(multi.get("disabled"))) {
        String n = String.valueOf(d.get("name"));
        if (n.equals("*")) entries.clear();
        else entries.remove(n);
      }
      for (Map<String, Object> e : list(multi.get("enabled"))) {
        String n = known(String.valueOf(e.get("name")), registry);
        Entry old = entries.remove(n);
        entries.put(n, new Entry(Set.copyOf(POINTS), Plugins.num(e.get("weight"), old != null ? old.weight : 1)));
      }
    }
    for (String point : POINTS) {
      Map<String, Object> set = (Map<String, Object>) plugins.get(point);
      if (set == null) continue;
      for (Map<String, Object> d : list(set.get("disabled"))) {
        String n = String.valueOf(d.get("name"));
        for (Map.Entry<String, Entry> e : entries.entrySet()) {
          if (n.equals("*") || n.equals(e.getKey())) e.getValue().points.remove(point);
        }
      }
      for (Map<String, Object> en : list(set.get("enabled"))) {
        String n = known(String.valueOf(en.get("name")), registry);
        Entry e = entries.computeIfAbsent(n, k -> new Entry(Set.of(), 0));
        e.points.add(point);
        if (point.equals("score")) e.weight = Plugins.num(en.get("weight"), e.weight > 0 ? e.weight : 1);
        // A filter or score needs its pre-step to have run.
        if (point.equals("filter")) e.points.add("preFilter");
        if (point.equals("score")) e.points.add("preScore");
      }
    }
  }

  private static String known(String name, Registry registry) {
    if (!registry.has(name)) throw new IllegalArgumentException("plugin \"" + name + "\" does not exist");
    return name;
  }

  @SuppressWarnings("unchecked")
  private static List<Map<String, Object>> list(Object o) {
    return o instanceof List<?> l ? (List<Map<String, Object>>) l : List.of();
  }

  private static Framework build(String name, LinkedHashMap<String, Entry> entries,
                                 Map<String, Map<String, Object>> args, int pct, Registry registry) {
    Framework fw = new Framework(name).percentageOfNodesToScore(pct);
    for (Map.Entry<String, Entry> e : entries.entrySet()) {
      if (e.getValue().points.isEmpty()) continue;
      Plugin p = registry.create(e.getKey(), args.get(e.getKey()), () -> fw);
      fw.addAt(p, e.getValue().points, e.getValue().weight);
    }
    return fw;
  }

  /** Legacy predicate and priority names → today's plugins. */
  static final Map<String, List<String>> PREDICATES = Map.ofEntries(
      Map.entry("PodFitsPorts", List.of("NodePorts")),
      Map.entry("PodFitsHostPorts", List.of("NodePorts")),
      Map.entry("PodFitsResources", List.of("NodeResourcesFit")),
      Map.entry("NoDiskConflict", List.of("VolumeRestrictions")),
      Map.entry("PodSelectorMatches", List.of("NodeAffinity")),
      Map.entry("MatchNodeSelector", List.of("NodeAffinity")),
      Map.entry("PodFitsHost", List.of("NodeName")),
      Map.entry("HostName", List.of("NodeName")),
      Map.entry("CheckNodeDiskPressure", List.of("TaintToleration")),
      Map.entry("CheckNodeMemoryPressure", List.of("TaintToleration")),
      Map.entry("CheckNodePIDPressure", List.of("TaintToleration")),
      Map.entry("CheckNodeCondition", List.of("TaintToleration")),
      Map.entry("PodToleratesNodeTaints", List.of("TaintToleration")),
      Map.entry("CheckNodeUnschedulable", List.of("NodeUnschedulable")),
      Map.entry("NoVolumeZoneConflict", List.of("VolumeZone")),
      Map.entry("CheckVolumeBinding", List.of("VolumeBinding")),
      Map.entry("MatchInterPodAffinity", List.of("InterPodAffinity")),
      Map.entry("EvenPodsSpread", List.of("PodTopologySpread")),
      Map.entry("GeneralPredicates", List.of("NodeResourcesFit", "NodeName", "NodePorts", "NodeAffinity")));
  static final Map<String, String> PRIORITIES = Map.ofEntries(
      Map.entry("LeastRequestedPriority", "NodeResourcesFit"),
      Map.entry("MostRequestedPriority", "NodeResourcesFit"),
      Map.entry("BalancedResourceAllocation", "NodeResourcesBalancedAllocation"),
      Map.entry("SelectorSpreadPriority", "SelectorSpread"),
      Map.entry("ServiceSpreadingPriority", "SelectorSpread"),
      Map.entry("ImageLocalityPriority", "ImageLocality"),
      Map.entry("NodeAffinityPriority", "NodeAffinity"),
      Map.entry("TaintTolerationPriority", "TaintToleration"),
      Map.entry("InterPodAffinityPriority", "InterPodAffinity"),
      Map.entry("EvenPodsSpreadPriority", "PodTopologySpread"),
      Map.entry("EqualPriority", "EqualPriority"));

  private static Framework policy(Map<String, Object> doc, String schedulerName, Registry registry) {
    LinkedHashMap<String, Entry> entries = new LinkedHashMap<>();
    entries.put("PrioritySort", new Entry(Set.of(), 0));
    Map<String, Map<String, Object>> args = new HashMap<>();
    Set<String> filterPoints = Set.of("preFilter", "filter");
    Set<String> scorePoints = Set.of("preScore", "score");
    if (doc.containsKey("predicates")) {
      for (Map<String, Object> p : list(doc.get("predicates"))) {
        String n = String.valueOf(p.get("name"));
        List<String> plugins = PREDICATES.get(n);
        if (plugins == null) throw new IllegalArgumentException("invalid predicate name \"" + n + "\"");
        for (String pl : plugins) entries.computeIfAbsent(pl, k -> new Entry(Set.of(), 0)).points.addAll(filterPoints);
      }
    } else {
      for (Plugins.Enabled e : Plugins.DEFAULTS) {
        entries.computeIfAbsent(e.name(), k -> new Entry(Set.of(), 0)).points.addAll(filterPoints);
      }
    }
    if (doc.containsKey("priorities")) {
      for (Map<String, Object> p : list(doc.get("priorities"))) {
        String n = String.valueOf(p.get("name"));
        String pl = PRIORITIES.get(n);
        if (pl == null) throw new IllegalArgumentException("invalid priority name \"" + n + "\"");
        Entry e = entries.computeIfAbsent(pl, k -> new Entry(Set.of(), 0));
        e.points.addAll(scorePoints);
        e.weight = Plugins.num(p.get("weight"), 1);
        if (n.equals("MostRequestedPriority")) {
          args.put(pl, Map.of("scoringStrategy", Map.of("type", "MostAllocated")));
        }
      }
    } else {
      for (Plugins.Enabled e : Plugins.DEFAULTS) {
        if (e.weight() == 0) continue;
        Entry en = entries.computeIfAbsent(e.name(), k -> new Entry(Set.of(), 0));
        en.points.addAll(scorePoints);
        en.weight = e.weight();
      }
    }
    entries.put("DefaultPreemption", new Entry(Set.of("postFilter"), 0));
    entries.put("DefaultBinder", new Entry(Set.of("bind"), 0));
    return build(schedulerName, entries, args, 0, registry);
  }
}
