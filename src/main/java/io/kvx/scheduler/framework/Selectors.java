package io.kvx.scheduler.framework;

import io.fabric8.kubernetes.api.model.LabelSelector;
import io.fabric8.kubernetes.api.model.LabelSelectorRequirement;
import io.fabric8.kubernetes.api.model.NodeSelector;
import io.fabric8.kubernetes.api.model.NodeSelectorRequirement;
import io.fabric8.kubernetes.api.model.NodeSelectorTerm;
import io.fabric8.kubernetes.api.model.Taint;
import io.fabric8.kubernetes.api.model.Toleration;

import java.util.List;
import java.util.Map;

/** Matching rules shared by plugins: label selectors, node selector terms, tolerations. Pure. */
public final class Selectors {

  private Selectors() {
  }

  /** A metav1.LabelSelector; null matches nothing, an empty one everything (as Kubernetes). */
  public static boolean matches(LabelSelector sel, Map<String, String> labels) {
    if (sel == null) return false;
    if (sel.getMatchLabels() != null) {
      for (Map.Entry<String, String> e : sel.getMatchLabels().entrySet()) {
        if (!e.getValue().equals(labels.get(e.getKey()))) return false;
      }
    }
    for (LabelSelectorRequirement r : PodInfo.list(sel.getMatchExpressions())) {
      String v = labels.get(r.getKey());
      List<String> values = PodInfo.list(r.getValues());
      boolean ok = switch (r.getOperator()) {
        case "In" -> v != null && values.contains(v);
        case "NotIn" -> v == null || !values.contains(v);
        case "Exists" -> v != null;
        case "DoesNotExist" -> v == null;
        default -> false;
      };
      if (!ok) return false;
    }
    return true;
  }

  /** requiredDuringScheduling node affinity: the terms are ORed; an empty list matches nothing. */
  public static boolean matches(NodeSelector sel, NodeInfo node) {
    for (NodeSelectorTerm t : PodInfo.list(sel.getNodeSelectorTerms())) {
      if (matches(t, node)) return true;
    }
    return false;
  }

  /** One term: its expressions (labels) and fields (metadata.name) are ANDed; an empty term matches nothing. */
  public static boolean matches(NodeSelectorTerm term, NodeInfo node) {
    List<NodeSelectorRequirement> exprs = PodInfo.list(term.getMatchExpressions());
    List<NodeSelectorRequirement> fields = PodInfo.list(term.getMatchFields());
    if (exprs.isEmpty() && fields.isEmpty()) return false;
    for (NodeSelectorRequirement r : exprs) {
      if (!matches(r, node.labels().get(r.getKey()))) return false;
    }
    for (NodeSelectorRequirement r : fields) {
      if (!"metadata.name".equals(r.getKey())) return false;
      if (!matches(r, node.name())) return false;
    }
    return true;
  }

  static boolean matches(NodeSelectorRequirement r, String value) {
    List<String> values = PodInfo.list(r.getValues());
    return switch (r.getOperator()) {
      case "In" -> value != null && values.contains(value);
      case "NotIn" -> value == null || !values.contains(value);
      case "Exists" -> value != null;
      case "DoesNotExist" -> value == null;
      case "Gt", "Lt" -> {
        if (value == null || values.size() != 1) yield false;
        try {
          long have = Long.parseLong(value);
          long want = Long.parseLong(values.get(0));
          yield r.getOperator().equals("Gt") ? have > want : have < want;
        } catch (NumberFormatException e) {
          yield false;
        }
      }
      default -> false;
    };
  }

  /** Whether a toleration tolerates a taint (empty key with Exists tolerates everything). */
  public static boolean tolerates(Toleration t, Taint taint) {
    if (t.getEffect() != null && !t.getEffect().isEmpty() && !t.getEffect().equals(taint.getEffect())) return false;
    String op = t.getOperator() == null || t.getOperator().isEmpty() ? "Equal" : t.getOperator();
    if (t.getKey() == null || t.getKey().isEmpty()) return op.equals("Exists");
    if (!t.getKey().equals(taint.getKey())) return false;
    if (op.equals("Exists")) return true;
    String tv = t.getValue() == null ? "" : t.getValue();
    String v = taint.getValue() == null ? "" : taint.getValue();
    return op.equals("Equal") && tv.equals(v);
  }

  public static boolean tolerated(List<Toleration> tolerations, Taint taint) {
    for (Toleration t : tolerations) if (tolerates(t, taint)) return true;
    return false;
  }
}
