package io.kvx.scheduler;

import io.kvx.scheduler.framework.Registry;
import io.kvx.scheduler.plugins.defaultbinder.DefaultBinder;
import io.kvx.scheduler.plugins.defaultpreemption.DefaultPreemption;
import io.kvx.scheduler.plugins.equalpriority.EqualPriority;
import io.kvx.scheduler.plugins.imagelocality.ImageLocality;
import io.kvx.scheduler.plugins.interpodaffinity.InterPodAffinity;
import io.kvx.scheduler.plugins.nodeaffinity.NodeAffinity;
import io.kvx.scheduler.plugins.nodename.NodeName;
import io.kvx.scheduler.plugins.nodeports.NodePorts;
import io.kvx.scheduler.plugins.noderesources.BalancedAllocation;
import io.kvx.scheduler.plugins.noderesources.NodeResourcesFit;
import io.kvx.scheduler.plugins.nodeunschedulable.NodeUnschedulable;
import io.kvx.scheduler.plugins.podtopologyspread.PodTopologySpread;
import io.kvx.scheduler.plugins.queuesort.PrioritySort;
import io.kvx.scheduler.plugins.selectorspread.SelectorSpread;
import io.kvx.scheduler.plugins.tainttoleration.TaintToleration;
import io.kvx.scheduler.plugins.volumerestrictions.VolumeRestrictions;
import io.kvx.scheduler.plugins.volumebinding.VolumeBinding;
import io.kvx.scheduler.plugins.volumezone.VolumeZone;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** The in-tree plugins, their args, and the default profile (kube-scheduler's defaults, in its order). */
public final class Plugins {

  private Plugins() {
  }

  /** A plugin enabled in a profile: name and score weight (0 = not scoring). */
  public record Enabled(String name, int weight) {}

  /** The default plugins in filter order, with the default score weights. */
  public static final List<Enabled> DEFAULTS = List.of(
      new Enabled(PrioritySort.NAME, 0),
      new Enabled(NodeUnschedulable.NAME, 0),
      new Enabled(NodeName.NAME, 0),
      new Enabled(TaintToleration.NAME, 3),
      new Enabled(NodeAffinity.NAME, 2),
      new Enabled(NodePorts.NAME, 0),
      new Enabled(NodeResourcesFit.NAME, 1),
      new Enabled(VolumeRestrictions.NAME, 0),
      new Enabled(VolumeBinding.NAME, 0),
      new Enabled(VolumeZone.NAME, 0),
      new Enabled(PodTopologySpread.NAME, 2),
      new Enabled(InterPodAffinity.NAME, 2),
      new Enabled(DefaultPreemption.NAME, 0),
      new Enabled(BalancedAllocation.NAME, 1),
      new Enabled(ImageLocality.NAME, 1),
      new Enabled(DefaultBinder.NAME, 0));

  public static Registry registry() {
    Map<String, Registry.Factory> m = new LinkedHashMap<>();
    m.put(PrioritySort.NAME, (a, f) -> new PrioritySort());
    m.put(NodeUnschedulable.NAME, (a, f) -> new NodeUnschedulable());
    m.put(NodeName.NAME, (a, f) -> new NodeName());
    m.put(TaintToleration.NAME, (a, f) -> new TaintToleration());
    m.put(NodeAffinity.NAME, (a, f) -> new NodeAffinity());
    m.put(NodePorts.NAME, (a, f) -> new NodePorts());
    m.put(NodeResourcesFit.NAME, (a, f) -> fit(a));
    m.put(BalancedAllocation.NAME, (a, f) -> new BalancedAllocation(resources(a.get("resources"))));
    m.put(VolumeRestrictions.NAME, (a, f) -> new VolumeRestrictions());
    m.put(VolumeZone.NAME, (a, f) -> new VolumeZone());
    m.put(VolumeBinding.NAME, (a, f) -> new VolumeBinding());
    m.put(PodTopologySpread.NAME, (a, f) -> new PodTopologySpread(!"List".equals(a.get("defaultingType"))));
    m.put(InterPodAffinity.NAME, (a, f) -> new InterPodAffinity(num(a.get("hardPodAffinityWeight"), 1)));
    m.put(DefaultPreemption.NAME, (a, f) -> new DefaultPreemption(f));
    m.put(ImageLocality.NAME, (a, f) -> new ImageLocality());
    m.put(SelectorSpread.NAME, (a, f) -> new SelectorSpread());
    m.put(EqualPriority.NAME, (a, f) -> new EqualPriority());
    m.put(DefaultBinder.NAME, (a, f) -> new DefaultBinder());
    return new Registry(m);
  }

  @SuppressWarnings("unchecked")
  static NodeResourcesFit fit(Map<String, Object> args) {
    Map<String, Object> strategy = (Map<String, Object>) args.getOrDefault("scoringStrategy", Map.of());
    NodeResourcesFit.Strategy type = NodeResourcesFit.Strategy.valueOf(
        String.valueOf(strategy.getOrDefault("type", "LeastAllocated")));
    List<NodeResourcesFit.ShapePoint> shape = new ArrayList<>();
    Map<String, Object> ratio = (Map<String, Object>) strategy.get("requestedToCapacityRatio");
    if (ratio != null) {
      for (Object o : (List<Object>) ratio.getOrDefault("shape", List.of())) {
        Map<String, Object> p = (Map<String, Object>) o;
        shape.add(new NodeResourcesFit.ShapePoint(num(p.get("utilization"), 0), num(p.get("score"), 0)));
      }
    }
    Set<String> ignored = new HashSet<>((List<String>) args.getOrDefault("ignoredResources", List.of()));
    Set<String> groups = new HashSet<>((List<String>) args.getOrDefault("ignoredResourceGroups", List.of()));
    return new NodeResourcesFit(type, resources(strategy.get("resources")), shape, ignored, groups);
  }

  @SuppressWarnings("unchecked")
  static List<NodeResourcesFit.ResourceWeight> resources(Object list) {
    List<NodeResourcesFit.ResourceWeight> out = new ArrayList<>();
    if (list instanceof List<?> l) {
      for (Object o : l) {
        Map<String, Object> r = (Map<String, Object>) o;
        out.add(new NodeResourcesFit.ResourceWeight(String.valueOf(r.get("name")), num(r.get("weight"), 1)));
      }
    }
    return out;
  }

  static int num(Object o, int dflt) {
    if (o instanceof Number n) return n.intValue();
    if (o instanceof String s && !s.isEmpty()) return Integer.parseInt(s);
    return dflt;
  }

  /** Args for every plugin not configured otherwise. */
  public static Map<String, Map<String, Object>> noArgs() {
    return new HashMap<>();
  }
}
