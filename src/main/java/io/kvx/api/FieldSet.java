package io.kvx.api;

import io.vertx.core.json.Json;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A set of field paths, as server-side apply records who owns what: a tree whose edges are path
 * elements in Kubernetes' FieldsV1 spelling ({@code f:name} a field or map key, {@code k:{"name":"web"}}
 * an item of a list keyed by its map keys, {@code v:"x"} an item of a set, {@code i:3} a list index).
 * A node is a member when the path leading to it is in the set (FieldsV1 writes {@code "."} for a
 * member that also has children). Pure and mutable only through {@link #insert} (and its parts,
 * {@link #enter} and {@link #markMember}, for a walk that builds a set), and only while a set is being
 * built: the set operations return sets that share unchanged subtrees with their operands. Every subtree kept
 * holds at least one member, so emptiness is known without a walk.
 */
public final class FieldSet {

  /** Fields before keys before values before indexes; each kind in its natural order. */
  private static final Comparator<String> ORDER = (a, b) -> {
    int ka = rank(a);
    int kb = rank(b);
    if (ka != kb) return Integer.compare(ka, kb);
    if (ka == 3) return Integer.compare(Integer.parseInt(a.substring(2)), Integer.parseInt(b.substring(2)));
    return a.compareTo(b);
  };

  /** Read-only stand-in for a missing subtree (the argument side of the set operations never changes). */
  private static final FieldSet EMPTY = new FieldSet();
  private static final java.util.SortedMap<String, FieldSet> NO_CHILDREN = java.util.Collections.emptySortedMap();

  private boolean member;
  /** Created with the first child: most nodes are leaves, and the set operations build many. */
  private TreeMap<String, FieldSet> children;

  public FieldSet() {
  }

  private static int rank(String element) {
    return switch (element.charAt(0)) {
      case 'f' -> 0;
      case 'k' -> 1;
      case 'v' -> 2;
      default -> 3;
    };
  }

  /** The element naming a field (or a key of a map). */
  public static String field(String name) {
    return "f:" + name;
  }

  /** The element naming a list item by its key fields (encoded sorted by name, as Kubernetes does). */
  public static String key(Map<String, Object> keyFields) {
    StringBuilder sb = new StringBuilder("k:{");
    boolean first = true;
    for (Map.Entry<String, Object> e : new TreeMap<>(keyFields).entrySet()) {
      if (!first) sb.append(',');
      first = false;
      quote(sb, e.getKey());
      sb.append(':');
      scalar(sb, e.getValue());
    }
    return sb.append('}').toString();
  }

  /** The element naming an item of a set by its value. */
  public static String value(Object v) {
    return scalar(new StringBuilder("v:"), v).toString();
  }

  /** JSON of a key or set value; strings, numbers and booleans by hand (the hot case), the rest by Jackson. */
  private static StringBuilder scalar(StringBuilder sb, Object v) {
    if (v instanceof String str) return quote(sb, str);
    if (v instanceof Integer || v instanceof Long || v instanceof Boolean) return sb.append(v);
    return sb.append(Json.encode(v));
  }

  private static StringBuilder quote(StringBuilder sb, String s) {
    sb.append('"');
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '"' -> sb.append("\\\"");
        case '\\' -> sb.append("\\\\");
        case '<', '>', '&' -> sb.append(String.format("\\u%04x", (int) c));
        default -> {
          if (c < 0x20) sb.append(String.format("\\u%04x", (int) c));
          else sb.append(c);
        }
      }
    }
    return sb.append('"');
  }

  public static String index(int i) {
    return "i:" + i;
  }

  public static FieldSet of(List<List<String>> paths) {
    FieldSet s = new FieldSet();
    paths.forEach(s::insert);
    return s;
  }

  /** Adds a path (and the nodes leading to it); returns this set. */
  public FieldSet insert(List<String> path) {
    if (path.isEmpty()) return this;
    FieldSet node = this;
    for (String e : path) node = node.enter(e);
    node.member = true;
    return this;
  }

  /** The subtree under one element, made if missing; with {@link #markMember}, builds a set while walking a tree. */
  FieldSet enter(String element) {
    FieldSet next = get(element);
    if (next == null) put(element, next = new FieldSet());
    return next;
  }

  /** Makes this node's path a member (a node made by {@link #enter} must become one or lead to one). */
  void markMember() {
    member = true;
  }

  public boolean has(List<String> path) {
    FieldSet node = this;
    for (String e : path) {
      node = node.get(e);
      if (node == null) return false;
    }
    return node != this && node.member;
  }

  /** The subtree under one element, or null. */
  public FieldSet child(String element) {
    return get(element);
  }

  private FieldSet get(String element) {
    return children == null ? null : children.get(element);
  }

  private void put(String element, FieldSet child) {
    if (children == null) children = new TreeMap<>(ORDER);
    children.put(element, child);
  }

  private java.util.SortedMap<String, FieldSet> kids() {
    return children == null ? NO_CHILDREN : children;
  }

  public boolean member() {
    return member;
  }

  /** True when no path is a member (every child holds a member: operations never keep empty subtrees). */
  public boolean isEmpty() {
    return !member && (children == null || children.isEmpty());
  }

  public FieldSet union(FieldSet other) {
    FieldSet out = new FieldSet();
    out.member = member || other.member;
    kids().forEach((k, v) -> {
      FieldSet o = other.get(k);
      out.put(k, o == null ? v : v.union(o));
    });
    other.kids().forEach((k, v) -> {
      if (out.get(k) == null) out.put(k, v);
    });
    return out;
  }

  /** The members of this set that are not members of {@code other} (children of them stay). */
  public FieldSet difference(FieldSet other) {
    return combine(other, (a, b) -> a && !b, false);
  }

  public FieldSet intersection(FieldSet other) {
    return combine(other, (a, b) -> a && b, true);
  }

  /** The members of this set that neither are in {@code other} nor lie under a member of it. */
  public FieldSet recursiveDifference(FieldSet other) {
    FieldSet out = new FieldSet();
    out.member = member && !other.member;
    kids().forEach((k, v) -> {
      FieldSet o = other.get(k);
      if (o == null) {
        out.put(k, v);
      } else if (!o.member) {
        FieldSet d = v.recursiveDifference(o);
        if (!d.isEmpty()) out.put(k, d);
      }
    });
    return out;
  }

  /** This set with every node that leads to a member made a member too. */
  public FieldSet withAncestors() {
    FieldSet out = new FieldSet();
    kids().forEach((k, v) -> {
      if (v.isEmpty()) return;
      FieldSet c = v.withAncestors();
      c.member = true;
      out.put(k, c);
    });
    return out;
  }

  private interface Op {
    boolean apply(boolean a, boolean b);
  }

  private FieldSet combine(FieldSet other, Op op, boolean both) {
    FieldSet out = new FieldSet();
    out.member = op.apply(member, other.member);
    kids().forEach((k, v) -> {
      FieldSet o = other.get(k);
      if (o == null) {
        // Nothing of the other set under k: an intersection keeps nothing there, a difference all of it.
        if (!both) out.put(k, v);
        return;
      }
      FieldSet c = v.combine(o, op, both);
      if (!c.isEmpty()) out.put(k, c);
    });
    return out;
  }

  /** Every member path: at each level the members first, then the subtrees (Kubernetes' order). */
  public List<List<String>> paths() {
    List<List<String>> out = new ArrayList<>();
    collect(new ArrayList<>(), out);
    return out;
  }

  private void collect(List<String> prefix, List<List<String>> out) {
    kids().forEach((k, v) -> {
      if (v.member) out.add(append(prefix, k));
    });
    kids().forEach((k, v) -> {
      if (!v.kids().isEmpty()) v.collect(append(prefix, k), out);
    });
  }

  private static List<String> append(List<String> prefix, String e) {
    List<String> p = new ArrayList<>(prefix.size() + 1);
    p.addAll(prefix);
    p.add(e);
    return p;
  }

  /** The FieldsV1 form: {"f:spec":{"f:replicas":{}}, ...}, "." marking members with children. */
  public JsonObject toFieldsV1() {
    if (kids().isEmpty()) return LEAF;
    JsonObject out = new JsonObject(new java.util.LinkedHashMap<>((kids().size() + 1) * 2));
    if (member) out.put(".", LEAF);
    kids().forEach((k, v) -> {
      if (!v.isEmpty()) out.put(k, v.toFieldsV1());
    });
    return out;
  }

  /**
   * The "{}" of a field that is a leaf of the set: one read-only instance shared by every managedFields entry (a
   * pod's has dozens, and stored objects are kept as trees). Stored objects are not changed in place (Store), and
   * a copy of one gets maps of its own.
   */
  private static final JsonObject LEAF = new JsonObject(Map.of());

  /** Reads FieldsV1; an element that is not one of f:, k:, v:, i: (or "."), or not an object, is a 400. */
  public static FieldSet fromFieldsV1(JsonObject fields) {
    FieldSet root = new FieldSet();
    read(fields, root);
    root.member = false;
    return root;
  }

  private static void read(JsonObject fields, FieldSet node) {
    if (fields.isEmpty()) node.member = true;
    for (Map.Entry<String, Object> e : fields) {
      String k = e.getKey();
      if (k.equals(".")) {
        node.member = true;
        continue;
      }
      if (k.length() < 2 || k.charAt(1) != ':' || "fkvi".indexOf(k.charAt(0)) < 0
          || !(e.getValue() instanceof JsonObject inner)) {
        throw ApiError.badRequest("invalid managedFields: unknown field set element \"" + k + "\"");
      }
      if (k.charAt(0) == 'i') {
        try {
          Integer.parseInt(k.substring(2));
        } catch (NumberFormatException ex) {
          throw ApiError.badRequest("invalid managedFields: bad index \"" + k + "\"");
        }
      }
      FieldSet child = new FieldSet();
      read(inner, child);
      node.put(k, child);
    }
  }

  /** A path as Kubernetes prints it in conflicts: .spec.template.spec.containers[name="web"].image */
  public static String toString(List<String> path) {
    StringBuilder sb = new StringBuilder();
    for (String e : path) {
      String rest = e.substring(2);
      switch (e.charAt(0)) {
        case 'f' -> sb.append('.').append(rest);
        case 'k' -> {
          List<String> parts = new ArrayList<>();
          new TreeMap<>(new JsonObject(rest).getMap()).forEach((name, v) -> parts.add(name + "=" + Json.encode(v)));
          sb.append('[').append(String.join(",", parts)).append(']');
        }
        case 'v' -> sb.append("[=").append(rest).append(']');
        default -> sb.append('[').append(rest).append(']');
      }
    }
    return sb.toString();
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof FieldSet f && f.toFieldsV1().equals(toFieldsV1());
  }

  @Override
  public int hashCode() {
    return toFieldsV1().hashCode();
  }

  @Override
  public String toString() {
    return toFieldsV1().encode();
  }
}
