package io.kvx.api;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A parsed label selector in Kubernetes' string syntax: {@code a=b}, {@code a==b}, {@code a!=b},
 * {@code a in (x,y)}, {@code a notin (x)}, {@code a}, {@code !a}, joined by commas.
 */
public final class LabelSelector {

  private enum Op { EQ, NEQ, IN, NOTIN, EXISTS, NOT_EXISTS }

  private record Requirement(String key, Op op, Set<String> values) {
    boolean matches(Map<String, String> labels) {
      String v = labels.get(key);
      return switch (op) {
        case EQ, IN -> v != null && values.contains(v);
        case NEQ, NOTIN -> v == null || !values.contains(v);
        case EXISTS -> v != null;
        case NOT_EXISTS -> v == null;
      };
    }
  }

  private final List<Requirement> requirements;

  private LabelSelector(List<Requirement> requirements) {
    this.requirements = requirements;
  }

  public static final LabelSelector EVERYTHING = new LabelSelector(List.of());

  public boolean isEmpty() {
    return requirements.isEmpty();
  }

  public boolean matches(Map<String, String> labels) {
    for (Requirement r : requirements) {
      if (!r.matches(labels)) return false;
    }
    return true;
  }

  /** A metav1.LabelSelector object: matchLabels and matchExpressions (In, NotIn, Exists, DoesNotExist). */
  public static LabelSelector fromJson(JsonObject selector) {
    if (selector == null) return EVERYTHING;
    List<Requirement> reqs = new ArrayList<>(fromMatchLabels(selector.getJsonObject("matchLabels")).requirements);
    JsonArray exprs = selector.getJsonArray("matchExpressions");
    if (exprs != null) {
      for (int i = 0; i < exprs.size(); i++) {
        JsonObject e = exprs.getJsonObject(i);
        Set<String> values = new LinkedHashSet<>();
        e.getJsonArray("values", new JsonArray()).forEach(v -> values.add(String.valueOf(v)));
        Op op = switch (e.getString("operator", "")) {
          case "In" -> Op.IN;
          case "NotIn" -> Op.NOTIN;
          case "Exists" -> Op.EXISTS;
          case "DoesNotExist" -> Op.NOT_EXISTS;
          default -> throw ApiError.badRequest("\"" + e.getString("operator") + "\" is not a valid label selector "
              + "operator");
        };
        reqs.add(new Requirement(e.getString("key"), op, values));
      }
    }
    return new LabelSelector(reqs);
  }

  /** A plain label map as a selector (ReplicationController, Service): every pair must match. */
  public static LabelSelector fromMatchLabels(JsonObject labels) {
    if (labels == null) return EVERYTHING;
    List<Requirement> reqs = new ArrayList<>();
    labels.forEach(e -> reqs.add(new Requirement(e.getKey(), Op.EQ, Set.of(String.valueOf(e.getValue())))));
    return new LabelSelector(reqs);
  }

  /** A label selector in its string form (a=b,c in (d)), as Scale.status.selector carries it. */
  public static String toText(JsonObject sel, boolean plainMap) {
    List<String> parts = new java.util.ArrayList<>();
    JsonObject labels = plainMap ? sel : sel.getJsonObject("matchLabels", new JsonObject());
    new java.util.TreeMap<>(labels.getMap()).forEach((k, v) -> parts.add(k + "=" + v));
    if (!plainMap) {
      for (Object o : sel.getJsonArray("matchExpressions", new JsonArray())) {
        JsonObject e = (JsonObject) o;
        String key = e.getString("key");
        String values = String.join(",", e.getJsonArray("values", new JsonArray()).stream().map(String::valueOf)
            .sorted().toList());
        switch (e.getString("operator", "")) {
          case "In" -> parts.add(key + " in (" + values + ")");
          case "NotIn" -> parts.add(key + " notin (" + values + ")");
          case "Exists" -> parts.add(key);
          case "DoesNotExist" -> parts.add("!" + key);
          default -> { }
        }
      }
    }
    return String.join(",", parts);
  }

  /** Parses a selector; a syntax error is a 400 naming the selector. */
  public static LabelSelector parse(String text) {
    if (text == null || text.isBlank()) return EVERYTHING;
    List<Requirement> reqs = new ArrayList<>();
    for (String term : splitTerms(text)) {
      reqs.add(parseTerm(term.trim(), text));
    }
    return new LabelSelector(reqs);
  }

  private static List<String> splitTerms(String text) {
    List<String> terms = new ArrayList<>();
    int depth = 0;
    StringBuilder cur = new StringBuilder();
    for (char c : text.toCharArray()) {
      if (c == '(') depth++;
      if (c == ')') depth--;
      if (c == ',' && depth == 0) {
        terms.add(cur.toString());
        cur.setLength(0);
      } else {
        cur.append(c);
      }
    }
    terms.add(cur.toString());
    return terms;
  }

  private static Requirement parseTerm(String term, String whole) {
    if (term.isEmpty()) throw bad(whole, "empty requirement");
    if (term.startsWith("!")) return new Requirement(key(term.substring(1).trim(), whole), Op.NOT_EXISTS, Set.of());
    String[] inParts = term.split("\\s+(?=(notin|in)\\s*\\()", 2);
    if (inParts.length == 2) {
      String rest = inParts[1].trim();
      Op op = rest.startsWith("notin") ? Op.NOTIN : Op.IN;
      int open = rest.indexOf('(');
      int close = rest.lastIndexOf(')');
      if (open < 0 || close < open) throw bad(whole, "missing parenthesis in set");
      Set<String> values = new LinkedHashSet<>();
      for (String v : rest.substring(open + 1, close).split(",")) {
        if (!v.isBlank()) values.add(value(v.trim(), whole));
      }
      return new Requirement(key(inParts[0].trim(), whole), op, values);
    }
    int idx;
    if ((idx = term.indexOf("!=")) > 0) {
      return new Requirement(key(term.substring(0, idx).trim(), whole), Op.NEQ,
          Set.of(value(term.substring(idx + 2).trim(), whole)));
    }
    if ((idx = term.indexOf("==")) > 0) {
      return new Requirement(key(term.substring(0, idx).trim(), whole), Op.EQ,
          Set.of(value(term.substring(idx + 2).trim(), whole)));
    }
    if ((idx = term.indexOf('=')) > 0) {
      return new Requirement(key(term.substring(0, idx).trim(), whole), Op.EQ,
          Set.of(value(term.substring(idx + 1).trim(), whole)));
    }
    return new Requirement(key(term, whole), Op.EXISTS, Set.of());
  }

  private static String key(String k, String whole) {
    if (!Validation.isQualifiedName(k)) throw bad(whole, "invalid label key \"" + k + "\"");
    return k;
  }

  private static String value(String v, String whole) {
    if (!Validation.isLabelValue(v)) throw bad(whole, "invalid label value: \"" + v + "\"");
    return v;
  }

  private static ApiError bad(String whole, String why) {
    return ApiError.badRequest("unable to parse requirement: labelSelector \"" + whole + "\": " + why);
  }
}
