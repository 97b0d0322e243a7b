package io.kvx.api;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;

/**
 * Server-side apply's field ownership, as Kubernetes keeps it in {@code metadata.managedFields}:
 * every write records, for its manager, the fields it set (operation Update: what it changed;
 * operation Apply: exactly the fields of the applied configuration). Apply merges the configuration
 * into the live object (lists by their map keys, sets by value, atomic values whole), removes what
 * the manager applied before and omits now unless someone else owns it, and refuses (409) to change
 * a value another manager owns unless forced. Entries are keyed by manager, operation, subresource
 * and (for Update) apiVersion, so they do not grow with the number of writes; past ten Update
 * entries the oldest fold into "ancient-changes". Pure.
 */
public final class ManagedFields {

  public static final String APPLY = "Apply";
  public static final String UPDATE = "Update";
  public static final String FIELDS_V1 = "FieldsV1";
  public static final String ANCIENT_CHANGES = "ancient-changes";
  public static final int MAX_UPDATE_MANAGERS = 10;
  public static final int MAX_MANAGER_LENGTH = 128;
  public static final String LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration";
  /** The manager whose apply may take over fields client-side apply set to the same values (as kube does). */
  public static final String KUBECTL_APPLY_MANAGER = "kubectl";
  public static final String CONFLICT_CAUSE = "FieldManagerConflict";

  /** Paths nobody owns: identity and bookkeeping the server sets (non-recursive: children stay). */
  private static final FieldSet STRIPPED = FieldSet.of(List.of(
      List.of("f:apiVersion"), List.of("f:kind"), List.of("f:metadata"), List.of("f:metadata", "f:name"),
      List.of("f:metadata", "f:namespace"), List.of("f:metadata", "f:creationTimestamp"),
      List.of("f:metadata", "f:selfLink"), List.of("f:metadata", "f:uid"), List.of("f:metadata", "f:generation"),
      List.of("f:metadata", "f:managedFields"), List.of("f:metadata", "f:resourceVersion"),
      List.of("f:metadata", "f:deletionTimestamp"), List.of("f:metadata", "f:deletionGracePeriodSeconds")));

  private static final FieldSet STATUS = FieldSet.of(List.of(List.of("f:status")));
  private static final FieldSet REPLICAS = FieldSet.of(List.of(List.of("f:spec", "f:replicas")));

  private static final Object ABSENT = new Object();
  private static final Set<String> ALWAYS_THERE = Set.of("metadata", "spec", "status");

  private ManagedFields() {
  }

  /** One managedFields entry. {@code subresource} is "" for the main resource; {@code time} may be null. */
  public record Entry(String manager, String operation, String apiVersion, String time, String subresource,
                      FieldSet fields) {

    /** Kubernetes' manager identity: Apply entries do not differ by apiVersion, Update entries do. */
    public String id() {
      return manager + "\u0000" + operation + "\u0000" + subresource + "\u0000"
          + (APPLY.equals(operation) ? "" : apiVersion);
    }

    Entry with(FieldSet f) {
      return new Entry(manager, operation, apiVersion, time, subresource, f);
    }

    /** How a conflict message names this manager: "m" with subresource "s" using apps/v1. */
    public String describe() {
      String s = "\"" + manager + "\"";
      if (!subresource.isEmpty()) s += " with subresource \"" + subresource + "\"";
      return UPDATE.equals(operation) ? s + " using " + apiVersion : s;
    }

    public JsonObject toJson() {
      JsonObject o = new JsonObject().put("manager", manager).put("operation", operation)
          .put("apiVersion", apiVersion);
      if (time != null) o.put("time", time);
      o.put("fieldsType", FIELDS_V1).put("fieldsV1", fields.toFieldsV1());
      if (!subresource.isEmpty()) o.put("subresource", subresource);
      return o;
    }

    public static Entry fromJson(JsonObject o) {
      String op = o.getString("operation", "");
      if (!op.equals(APPLY) && !op.equals(UPDATE)) {
        throw ApiError.badRequest("invalid managedFields: operation must be Apply or Update, not \"" + op + "\"");
      }
      if (!FIELDS_V1.equals(o.getString("fieldsType"))) {
        throw ApiError.badRequest("invalid managedFields: fieldsType must be FieldsV1");
      }
      Object f = o.getValue("fieldsV1");
      FieldSet fields = f instanceof JsonObject fo ? FieldSet.fromFieldsV1(fo) : new FieldSet();
      return new Entry(o.getString("manager", ""), op, o.getString("apiVersion", ""), o.getString("time"),
          o.getString("subresource", ""), fields);
    }
  }

  /** Who writes, to what: the kind (and version), the manager, "" or a subresource, and the time. */
  public record Context(ResourceType type, String manager, String subresource, String now) {
    public Context {
      subresource = subresource == null ? "" : subresource;
    }
  }

  /** Added, changed and removed paths between two versions of an object. */
  public record Comparison(FieldSet added, FieldSet modified, FieldSet removed) {
    FieldSet changed() {
      return added.union(modified);
    }
  }

  // ---- the manager name and the managedFields list ----

  /** The default manager: the User-Agent up to its first "/", printable characters only, at most 128 bytes. */
  public static String managerFromUserAgent(String userAgent) {
    if (userAgent == null) return "";
    String head = userAgent.split("/", 2)[0];
    StringBuilder sb = new StringBuilder();
    int bytes = 0;
    for (int i = 0; i < head.length(); ) {
      int cp = head.codePointAt(i);
      i += Character.charCount(cp);
      if (!isPrintable(cp)) continue;
      int len = new String(Character.toChars(cp)).getBytes(java.nio.charset.StandardCharsets.UTF_8).length;
      if (bytes + len > MAX_MANAGER_LENGTH) break;
      sb.appendCodePoint(cp);
      bytes += len;
    }
    return sb.toString();
  }

  private static boolean isPrintable(int cp) {
    int t = Character.getType(cp);
    return !Character.isISOControl(cp) && t != Character.UNASSIGNED && t != Character.FORMAT
        && t != Character.LINE_SEPARATOR && t != Character.PARAGRAPH_SEPARATOR && t != Character.SURROGATE
        && (cp == ' ' || !Character.isWhitespace(cp));
  }

  /** Why a fieldManager query parameter is invalid (too long, unprintable), or null. */
  public static String invalidManager(String manager) {
    if (manager.getBytes(java.nio.charset.StandardCharsets.UTF_8).length > MAX_MANAGER_LENGTH) {
      return "Too long: may not be more than " + MAX_MANAGER_LENGTH + " bytes";
    }
    for (int i = 0; i < manager.length(); ) {
      int cp = manager.codePointAt(i);
      if (!isPrintable(cp)) {
        return "Invalid value: \"" + manager + "\": invalid character " + String.format("U+%04X", cp)
            + " (at position " + i + ")";
      }
      i += Character.charCount(cp);
    }
    return null;
  }

  /** A client clears managedFields by sending an empty list or a list of one empty entry (as kube reads it). */
  public static boolean isReset(Object managedFields) {
    if (!(managedFields instanceof JsonArray a)) return false;
    return a.isEmpty() || (a.size() == 1 && a.getValue(0) instanceof JsonObject o && o.isEmpty());
  }

  public static List<Entry> decode(JsonArray managedFields) {
    List<Entry> out = new ArrayList<>();
    if (managedFields == null) return out;
    for (Object o : managedFields) {
      if (!(o instanceof JsonObject e)) throw ApiError.badRequest("invalid managedFields: an entry is not an object");
      out.add(Entry.fromJson(e));
    }
    return out;
  }

  /** The entries sorted as kube sorts them: Apply before Update, then by time, manager, version, subresource. */
  public static JsonArray encode(Iterable<Entry> entries) {
    List<Entry> sorted = new ArrayList<>();
    entries.forEach(sorted::add);
    sorted.sort(Comparator.comparing(Entry::operation).thenComparing(e -> e.time() == null ? "" : e.time())
        .thenComparing(Entry::manager).thenComparing(Entry::apiVersion).thenComparing(Entry::subresource));
    JsonArray out = new JsonArray();
    sorted.forEach(e -> out.add(e.toJson()));
    return out;
  }

  /**
   * The entries an update starts from: the live ones, unless the request carried its own (a client may
   * rewrite them, as kubectl's client-side-to-server-side migration does) or asked for a reset. A
   * subresource write, or entries that do not decode, keep the live ones.
   */
  public static List<Entry> fromRequest(Object requested, JsonObject live, String subresource) {
    List<Entry> liveEntries = liveEntries(live);
    if (subresource != null && !subresource.isEmpty()) return liveEntries;
    if (isReset(requested)) return new ArrayList<>();
    if (requested instanceof JsonArray a && !a.isEmpty()) {
      try {
        return decode(a);
      } catch (ApiError e) {
        return liveEntries;
      }
    }
    return liveEntries;
  }

  private static List<Entry> liveEntries(JsonObject live) {
    JsonArray a = live == null ? null : Meta.meta(live).getJsonArray("managedFields");
    try {
      return decode(a);
    } catch (ApiError e) {
      return new ArrayList<>();
    }
  }

  // ---- Update and Apply ----

  /**
   * Records a non-apply write (create, update, patch) of {@code live} into {@code next} by the
   * context's manager: it takes every field the write added or changed (others lose them), nobody
   * keeps what was removed. Returns the new managedFields.
   */
  public static JsonArray update(Context c, JsonObject live, JsonObject next, List<Entry> entries) {
    Comparison cmp = filter(c, compare(c.type(), live, next));
    FieldSet changed = cmp.changed();
    Map<String, Entry> byId = index(entries);
    reduce(byId, null, changed, cmp.removed());
    if (!changed.isEmpty()) {
      Entry mine = new Entry(c.manager(), UPDATE, c.type().apiVersion(), c.now(), c.subresource(), changed);
      Entry previous = byId.get(mine.id());
      byId.put(mine.id(), previous == null ? mine : mine.with(previous.fields().union(changed)));
    }
    capUpdates(byId);
    return encode(byId.values());
  }

  /**
   * Apply, first half: the live object with the configuration merged in and what the manager
   * applied before but no longer applies removed (unless another manager owns it).
   */
  public static JsonObject merge(Context c, JsonObject live, JsonObject config) {
    TypeSchema ts = TypeSchema.of(c.type());
    JsonObject merged = (JsonObject) mergeValue(ts, ts.root, live.copy(), config.copy());
    Map<String, Entry> byId = index(liveEntries(live));
    Entry applier = applyEntry(c, config, ts);
    Entry last = byId.get(applier.id());
    if (last == null || last.fields().isEmpty()) return merged;
    byId.put(applier.id(), applier);
    FieldSet owned = STRIPPED;
    for (Entry e : byId.values()) owned = owned.union(e.fields());
    owned = owned.union(applySet(ts, config)).withAncestors();
    FieldSet toRemove = last.fields().withAncestors().difference(owned);
    removeItems(ts, ts.root, merged, toRemove);
    return merged;
  }

  /**
   * Apply, second half: ownership of {@code merged} (the object about to be stored). A changed value
   * another manager owns is a conflict (409, one cause per field) unless {@code force}; forced, the
   * field moves to this manager. The same value applied by two managers is owned by both. Returns
   * the new managedFields.
   */
  public static JsonArray apply(Context c, JsonObject live, JsonObject merged, JsonObject config, boolean force) {
    TypeSchema ts = TypeSchema.of(c.type());
    Comparison cmp = filter(c, compare(c.type(), live, merged));
    FieldSet changed = cmp.changed();
    Map<String, Entry> byId = index(liveEntries(live));
    Entry applier = applyEntry(c, config, ts);
    Map<String, FieldSet> conflicts = new TreeMap<>();
    for (Entry e : byId.values()) {
      if (e.id().equals(applier.id())) continue;
      FieldSet both = e.fields().intersection(changed);
      if (!both.isEmpty()) conflicts.put(e.id(), both);
    }
    if (!force && !conflicts.isEmpty() && !allowedByLastApplied(c, live, conflicts.values())) {
      throw conflictError(byId, conflicts);
    }
    reduce(byId, applier.id(), changed, cmp.removed());
    Entry previous = byId.get(applier.id());
    boolean objectChanged = !changed.isEmpty() || !cmp.removed().isEmpty();
    String time = objectChanged || previous == null ? c.now() : previous.time();
    applier = new Entry(applier.manager(), APPLY, applier.apiVersion(), time, applier.subresource(),
        applier.fields());
    if (applier.fields().isEmpty()) byId.remove(applier.id());
    else byId.put(applier.id(), applier);
    capUpdates(byId);
    return encode(byId.values());
  }

  /** kubectl's own server-side apply keeps an existing last-applied annotation in step, as kube does. */
  public static void syncLastApplied(Context c, JsonObject live, JsonObject merged, JsonObject config) {
    if (!KUBECTL_APPLY_MANAGER.equals(c.manager())) return;
    JsonObject ann = Meta.meta(live).getJsonObject("annotations");
    if (ann == null || ann.getString(LAST_APPLIED) == null) return;
    JsonObject applied = config.copy();
    JsonObject appliedAnn = Meta.meta(applied).getJsonObject("annotations");
    if (appliedAnn != null) {
      appliedAnn.remove(LAST_APPLIED);
      if (appliedAnn.isEmpty()) Meta.meta(applied).remove("annotations");
    }
    JsonObject mergedMeta = Meta.meta(merged);
    JsonObject mergedAnn = mergedMeta.getJsonObject("annotations", new JsonObject());
    mergedAnn.put(LAST_APPLIED, applied.encode());
    mergedMeta.put("annotations", mergedAnn);
  }

  private static Entry applyEntry(Context c, JsonObject config, TypeSchema ts) {
    return new Entry(c.manager(), APPLY, c.type().apiVersion(), null, c.subresource(),
        filter(c, applySet(ts, config)));
  }

  private static FieldSet applySet(TypeSchema ts, JsonObject config) {
    FieldSet s = new FieldSet();
    toSet(ts, ts.root, config, new ArrayList<>(), s);
    return s;
  }

  /**
   * Client-side apply set these fields to what its last-applied annotation says, and they still hold
   * those values: kubectl's server-side apply may take them over without a conflict.
   */
  private static boolean allowedByLastApplied(Context c, JsonObject live, Iterable<FieldSet> conflicts) {
    if (!KUBECTL_APPLY_MANAGER.equals(c.manager())) return false;
    JsonObject ann = Meta.meta(live).getJsonObject("annotations");
    String text = ann == null ? null : ann.getString(LAST_APPLIED);
    if (text == null || text.isEmpty()) return false;
    JsonObject lastApplied;
    try {
      lastApplied = new JsonObject(text);
    } catch (RuntimeException e) {
      return false;
    }
    FieldSet allowed = toSet(c.type(), lastApplied).difference(compare(c.type(), lastApplied, live).modified());
    for (FieldSet conflict : conflicts) {
      if (!conflict.difference(allowed).isEmpty()) return false;
    }
    return true;
  }

  /** Other managers lose what this write changed and everyone loses what it removed; empty entries go. */
  private static void reduce(Map<String, Entry> byId, String except, FieldSet changed, FieldSet removed) {
    for (String id : new ArrayList<>(byId.keySet())) {
      if (id.equals(except)) continue;
      Entry e = byId.get(id);
      FieldSet left = e.fields().difference(changed).difference(removed);
      if (left.isEmpty()) byId.remove(id);
      else byId.put(id, e.with(left));
    }
  }

  private static Map<String, Entry> index(List<Entry> entries) {
    Map<String, Entry> out = new LinkedHashMap<>();
    for (Entry e : entries) {
      Entry prior = out.get(e.id());
      out.put(e.id(), prior == null ? e : e.with(prior.fields().union(e.fields())));
    }
    return out;
  }

  /** Past MAX_UPDATE_MANAGERS Update entries, the oldest fold into one "ancient-changes" entry per apiVersion. */
  private static void capUpdates(Map<String, Entry> byId) {
    while (true) {
      List<Entry> updaters = byId.values().stream().filter(e -> UPDATE.equals(e.operation())).toList();
      if (updaters.size() <= MAX_UPDATE_MANAGERS) return;
      Entry oldest = updaters.stream().filter(e -> !ANCIENT_CHANGES.equals(e.manager()))
          .min(Comparator.comparing((Entry e) -> e.time() == null ? "" : e.time()).thenComparing(Entry::id))
          .orElse(null);
      if (oldest == null) return;
      byId.remove(oldest.id());
      Entry bucket = new Entry(ANCIENT_CHANGES, UPDATE, oldest.apiVersion(), oldest.time(), "", oldest.fields());
      Entry prior = byId.get(bucket.id());
      byId.put(bucket.id(), prior == null ? bucket : bucket.with(prior.fields().union(oldest.fields())));
    }
  }

  private static ApiError conflictError(Map<String, Entry> byId, Map<String, FieldSet> conflicts) {
    List<ApiError.Cause> causes = new ArrayList<>();
    List<String> grouped = new ArrayList<>();
    int count = 0;
    String single = null;
    List<Map.Entry<String, FieldSet>> ordered = new ArrayList<>(conflicts.entrySet());
    ordered.sort(Comparator.comparing(e -> byId.get(e.getKey()).describe()));
    for (Map.Entry<String, FieldSet> e : ordered) {
      String who = byId.get(e.getKey()).describe();
      grouped.add("conflicts with " + who + ":");
      for (List<String> path : e.getValue().paths()) {
        String p = FieldSet.toString(path);
        causes.add(new ApiError.Cause(p, CONFLICT_CAUSE, "conflict with " + who));
        grouped.add("- " + p);
        single = "conflict with " + who + ": " + p;
        count++;
      }
    }
    String message = count == 1 ? "Apply failed with 1 conflict: " + single
        : "Apply failed with " + count + " conflicts: " + String.join("\n", grouped);
    return new ApiError(ApiError.Reason.Conflict, message, null, null, null, causes);
  }

  /** Drops what nobody owns: identity and bookkeeping, status on the main resource, all but status on /status. */
  private static Comparison filter(Context c, Comparison cmp) {
    return new Comparison(filter(c, cmp.added()), filter(c, cmp.modified()), filter(c, cmp.removed()));
  }

  private static FieldSet filter(Context c, FieldSet s) {
    s = s.difference(STRIPPED);
    switch (c.subresource()) {
      case "" -> {
        if (c.type().subresources().contains("status")) s = s.recursiveDifference(STATUS);
      }
      case "status" -> s = only(s, STATUS);
      case "scale" -> s = only(s, replicasPath(c.type()));
      default -> {
      }
    }
    return s;
  }

  /** Where the scale subresource writes: spec.replicas, or a custom kind's specReplicasPath. */
  private static FieldSet replicasPath(ResourceType type) {
    if (!type.isCustom()) return REPLICAS;
    String path = type.custom().getJsonObject("subresources", new JsonObject()).getJsonObject("scale",
        new JsonObject()).getString("specReplicasPath", ".spec.replicas");
    List<String> elements = new ArrayList<>();
    for (String part : path.replaceFirst("^\\.", "").split("\\.")) elements.add(FieldSet.field(part));
    return FieldSet.of(List.of(elements));
  }

  /** The members of {@code s} at or under the members of {@code within}. */
  private static FieldSet only(FieldSet s, FieldSet within) {
    return s.difference(s.recursiveDifference(within));
  }

  // ---- the schema-aware walks ----

  /** Every path a value sets, as kube counts them: leaves, atomic values, list items, map keys. */
  public static FieldSet toSet(ResourceType type, JsonObject obj) {
    TypeSchema ts = TypeSchema.of(type);
    FieldSet s = new FieldSet();
    toSet(ts, ts.root, obj, new ArrayList<>(), s);
    return s;
  }

  private static void toSet(TypeSchema ts, JsonObject schema, Object v, List<String> path, FieldSet out) {
    switch (ts.shape(schema, v)) {
      case SCALAR, ATOMIC -> out.insert(path);
      case STRUCT -> {
        for (Map.Entry<String, Object> e : (JsonObject) v) {
          List<String> p = child(path, FieldSet.field(e.getKey()));
          Object value = ((JsonObject) v).getValue(e.getKey());
          toSet(ts, ts.field(schema, e.getKey()), value, p, out);
          if (value == null || (value instanceof JsonObject o && o.isEmpty()) || !ts.declared(schema, e.getKey())) {
            out.insert(p);
          }
        }
      }
      case LIST_MAP, LIST_SET -> {
        TypeSchema.Shape shape = ts.shape(schema, v);
        JsonArray a = (JsonArray) v;
        for (int i = 0; i < a.size(); i++) {
          Object item = a.getValue(i);
          List<String> p = child(path, ts.element(schema, shape, item));
          if (shape == TypeSchema.Shape.LIST_MAP) toSet(ts, ts.items(schema), item, p, out);
          out.insert(p);
        }
      }
      default -> {
      }
    }
  }

  /** What changed from {@code lhs} to {@code rhs}, path by path (maps and list items added or removed whole count too). */
  public static Comparison compare(ResourceType type, JsonObject lhs, JsonObject rhs) {
    TypeSchema ts = TypeSchema.of(type);
    Comparison c = new Comparison(new FieldSet(), new FieldSet(), new FieldSet());
    compare(ts, ts.root, lhs == null ? ABSENT : lhs, rhs == null ? ABSENT : rhs, new At(c), c);
    return c;
  }

  /**
   * Where the walk stands in the three sets of a comparison: the node of each set is made only when a
   * member is inserted at or under it (a set keeps no subtree without a member), from its parent's node.
   */
  private static final class At {
    private final At parent;
    private final String element;
    private final FieldSet[] nodes = new FieldSet[3];

    At(Comparison root) {
      parent = null;
      element = null;
      nodes[0] = root.added();
      nodes[1] = root.modified();
      nodes[2] = root.removed();
    }

    At(At parent, String element) {
      this.parent = parent;
      this.element = element;
    }

    boolean isRoot() {
      return parent == null;
    }

    private FieldSet node(int set) {
      FieldSet n = nodes[set];
      if (n == null) n = nodes[set] = parent.node(set).enter(element);
      return n;
    }

    /** This path becomes a member of set 0 (added), 1 (modified) or 2 (removed); the root never is. */
    void insert(int set) {
      if (parent != null) node(set).markMember();
    }
  }

  private static final int ADDED = 0;
  private static final int MODIFIED = 1;
  private static final int REMOVED = 2;

  private static void compare(TypeSchema ts, JsonObject schema, Object l, Object r, At at, Comparison c) {
    TypeSchema.Shape shape = ts.shape(schema, r != ABSENT ? r : l);
    boolean sameShape = l == ABSENT || r == ABSENT || ts.shape(schema, l) == shape;
    boolean leaf = !sameShape || shape == TypeSchema.Shape.SCALAR || shape == TypeSchema.Shape.ATOMIC
        || (shape == TypeSchema.Shape.STRUCT && emptyObject(l) && emptyObject(r));
    if (leaf) {
      if (l == ABSENT) at.insert(ADDED);
      else if (r == ABSENT) at.insert(REMOVED);
      else if (!same(l, r)) at.insert(MODIFIED);
      return;
    }
    if (shape == TypeSchema.Shape.STRUCT) {
      JsonObject lo = l == ABSENT ? new JsonObject() : (JsonObject) l;
      JsonObject ro = r == ABSENT ? new JsonObject() : (JsonObject) r;
      Set<String> keys = new LinkedHashSet<>(lo.fieldNames());
      keys.addAll(ro.fieldNames());
      for (String k : keys) {
        Object lv = get(lo, k);
        Object rv = get(ro, k);
        if (at.isRoot() && ALWAYS_THERE.contains(k)) {
          // Kube's objects always have these (Go struct values): appearing is not adding them.
          if (lv == ABSENT && rv instanceof JsonObject) lv = new JsonObject();
          if (rv == ABSENT && lv instanceof JsonObject) rv = new JsonObject();
        }
        compare(ts, ts.field(schema, k), lv, rv, new At(at, FieldSet.field(k)), c);
      }
    } else {
      Map<String, Object> li = items(ts, schema, shape, l);
      Map<String, Object> ri = items(ts, schema, shape, r);
      Set<String> keys = new LinkedHashSet<>(li.keySet());
      keys.addAll(ri.keySet());
      for (String k : keys) {
        compare(ts, ts.items(schema), li.getOrDefault(k, ABSENT), ri.getOrDefault(k, ABSENT), new At(at, k), c);
      }
    }
    if (l == ABSENT) at.insert(ADDED);
    else if (r == ABSENT) at.insert(REMOVED);
  }

  private static boolean emptyObject(Object v) {
    return v == ABSENT || v == null || (v instanceof JsonObject o && o.isEmpty());
  }

  private static boolean same(Object a, Object b) {
    if (a instanceof Number x && b instanceof Number y) {
      return x.doubleValue() == y.doubleValue() && x.longValue() == y.longValue();
    }
    return Objects.equals(a, b);
  }

  private static Object get(JsonObject o, String k) {
    return o.containsKey(k) ? o.getValue(k) : ABSENT;
  }

  private static Map<String, Object> items(TypeSchema ts, JsonObject schema, TypeSchema.Shape shape, Object list) {
    Map<String, Object> out = new LinkedHashMap<>();
    if (list instanceof JsonArray a) {
      for (int i = 0; i < a.size(); i++) {
        Object item = a.getValue(i);
        out.putIfAbsent(ts.element(schema, shape, item), item);
      }
    }
    return out;
  }

  /** The configuration merged into the live object (public for tests; apply uses {@link #merge(Context, JsonObject, JsonObject)}). */
  public static JsonObject mergeObjects(ResourceType type, JsonObject live, JsonObject config) {
    TypeSchema ts = TypeSchema.of(type);
    return (JsonObject) mergeValue(ts, ts.root, live.copy(), config.copy());
  }

  private static Object mergeValue(TypeSchema ts, JsonObject schema, Object l, Object r) {
    if (r == ABSENT) return l;
    if (l == ABSENT || l == null) return r;
    TypeSchema.Shape shape = ts.shape(schema, r);
    if (ts.shape(schema, l) != shape) return r;
    switch (shape) {
      case STRUCT -> {
        JsonObject out = (JsonObject) l;
        for (Map.Entry<String, Object> e : (JsonObject) r) {
          String k = e.getKey();
          Object rv = ((JsonObject) r).getValue(k);
          if (rv == null) out.remove(k);
          else out.put(k, mergeValue(ts, ts.field(schema, k), get(out, k), rv));
        }
        return out;
      }
      case LIST_MAP, LIST_SET -> {
        Map<String, Object> li = items(ts, schema, shape, l);
        Map<String, Object> ri = items(ts, schema, shape, r);
        List<String> rKeys = new ArrayList<>(ri.keySet());
        Set<String> emitted = new LinkedHashSet<>();
        JsonArray out = new JsonArray();
        JsonObject itemSchema = ts.items(schema);
        int next = 0;
        for (Map.Entry<String, Object> e : li.entrySet()) {
          String k = e.getKey();
          if (!ri.containsKey(k)) {
            out.add(e.getValue());
            emitted.add(k);
            continue;
          }
          if (emitted.contains(k)) continue;
          while (next < rKeys.size()) {
            String rk = rKeys.get(next++);
            if (emitted.add(rk)) out.add(mergeValue(ts, itemSchema, li.getOrDefault(rk, ABSENT), ri.get(rk)));
            if (rk.equals(k)) break;
          }
        }
        for (String rk : rKeys) {
          if (emitted.add(rk)) out.add(mergeValue(ts, itemSchema, li.getOrDefault(rk, ABSENT), ri.get(rk)));
        }
        return out;
      }
      default -> {
        return r;
      }
    }
  }

  /** Removes from {@code v} (in place where it can) the fields and items that are members of {@code set}. */
  private static Object removeItems(TypeSchema ts, JsonObject schema, Object v, FieldSet set) {
    TypeSchema.Shape shape = ts.shape(schema, v);
    switch (shape) {
      case STRUCT -> {
        JsonObject o = (JsonObject) v;
        for (String k : new ArrayList<>(o.fieldNames())) {
          FieldSet child = set.child(FieldSet.field(k));
          if (child == null) continue;
          if (child.member()) o.remove(k);
          else o.put(k, removeItems(ts, ts.field(schema, k), o.getValue(k), child));
        }
        return o;
      }
      case LIST_MAP, LIST_SET -> {
        JsonArray out = new JsonArray();
        for (Object item : (JsonArray) v) {
          FieldSet child = set.child(ts.element(schema, shape, item));
          if (child != null && child.member()) continue;
          out.add(child == null ? item : removeItems(ts, ts.items(schema), item, child));
        }
        return out;
      }
      default -> {
        return v;
      }
    }
  }

  private static List<String> child(List<String> path, String element) {
    List<String> p = new ArrayList<>(path.size() + 1);
    p.addAll(path);
    p.add(element);
    return p;
  }
}
