package io.kvx.api;

import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * A parsed field selector ({@code f=v}, {@code f==v}, {@code f!=v}, comma-joined). Only the fields
 * Kubernetes allows for a kind are accepted; anything else is a 400, as in Kubernetes.
 */
public final class FieldSelector {

  private record Term(String field, String value, boolean negate) {}

  private static final Set<String> COMMON = Set.of("metadata.name", "metadata.namespace");
  private static final Set<String> POD_FIELDS = Set.of("spec.nodeName", "spec.restartPolicy",
      "spec.schedulerName", "spec.serviceAccountName", "spec.hostNetwork", "status.phase", "status.podIP",
      "status.nominatedNodeName");
  private static final Set<String> NODE_FIELDS = Set.of("spec.unschedulable");
  private static final Set<String> NAMESPACE_FIELDS = Set.of("status.phase");
  private static final Set<String> EVENT_FIELDS = Set.of("involvedObject.kind", "involvedObject.namespace",
      "involvedObject.name", "involvedObject.uid", "involvedObject.apiVersion",
      "involvedObject.resourceVersion", "involvedObject.fieldPath", "reason", "reportingComponent", "source",
      "type");
  private static final Set<String> SECRET_FIELDS = Set.of("type");

  private final List<Term> terms;

  private FieldSelector(List<Term> terms) {
    this.terms = terms;
  }

  public static final FieldSelector EVERYTHING = new FieldSelector(List.of());

  public static FieldSelector parse(String text, ResourceType type) {
    if (text == null || text.isBlank()) return EVERYTHING;
    List<Term> terms = new ArrayList<>();
    for (String raw : text.split(",")) {
      String t = raw.trim();
      boolean negate = false;
      int idx = t.indexOf("!=");
      String field;
      String value;
      if (idx > 0) {
        negate = true;
        field = t.substring(0, idx);
        value = t.substring(idx + 2);
      } else if ((idx = t.indexOf("==")) > 0) {
        field = t.substring(0, idx);
        value = t.substring(idx + 2);
      } else if ((idx = t.indexOf('=')) > 0) {
        field = t.substring(0, idx);
        value = t.substring(idx + 1);
      } else {
        throw ApiError.badRequest("invalid selector: '" + text + "'; can't understand '" + t + "'");
      }
      field = field.trim();
      if (!supported(field, type)) {
        throw ApiError.badRequest("field label not supported: " + field);
      }
      terms.add(new Term(field, value.trim(), negate));
    }
    return new FieldSelector(terms);
  }

  private static boolean supported(String field, ResourceType type) {
    if (COMMON.contains(field)) return true;
    return switch (type.kind()) {
      case "Pod" -> POD_FIELDS.contains(field);
      case "Node" -> NODE_FIELDS.contains(field);
      case "Namespace" -> NAMESPACE_FIELDS.contains(field);
      case "Event" -> EVENT_FIELDS.contains(field);
      case "Secret" -> SECRET_FIELDS.contains(field);
      default -> false;
    };
  }

  public boolean isEmpty() {
    return terms.isEmpty();
  }

  /** The value of {@code metadata.name=X} when the selector pins one name, else null. */
  public String singleName() {
    for (Term t : terms) {
      if (!t.negate && t.field.equals("metadata.name")) return t.value;
    }
    return null;
  }

  /** The value {@code field=X} pins (an equality term), else null. */
  public String exact(String field) {
    for (Term t : terms) {
      if (!t.negate && t.field.equals(field)) return t.value;
    }
    return null;
  }

  public boolean matches(JsonObject obj) {
    for (Term t : terms) {
      String actual = valueAt(obj, t.field);
      boolean eq = t.value.equals(actual);
      if (eq == t.negate) return false;
    }
    return true;
  }

  /** Reads a dotted path as a string; missing fields read as "" (as Kubernetes' field sets do). */
  static String valueAt(JsonObject obj, String path) {
    Object cur = obj;
    for (String part : path.split("\\.")) {
      if (!(cur instanceof JsonObject o)) return "";
      cur = o.getValue(part);
    }
    if (cur == null) return path.equals("spec.unschedulable") || path.equals("spec.hostNetwork") ? "false" : "";
    return String.valueOf(cur);
  }
}
