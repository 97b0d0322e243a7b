package io.kvx.apiserver;

import io.kvx.api.Meta;
import io.kvx.api.Resources;
import io.kvx.api.ResourceType;
import io.kvx.rbac.Policy;
import io.kvx.rbac.PolicyRule;
import io.kvx.rbac.RequestAttributes;
import io.kvx.rbac.UserInfo;
import io.kvx.store.Store;
import io.kvx.store.Watch;
import io.kvx.store.WatchEvent;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * kube-apiserver's RBAC authorizer, one per JVM: Roles, ClusterRoles and their bindings come from the JVM's
 * watch cache (four watches, kept in maps), never a store read per request. A member of system:masters is
 * allowed at once (kube's privileged-group short-circuit); for anyone else the rules that apply to (user,
 * groups, namespace) are resolved once and kept until an RBAC object changes.
 */
public final class RbacAuthorizer implements Authorizer {

  private static final Map<Vertx, Future<RbacAuthorizer>> PER_JVM = new ConcurrentHashMap<>();
  private static final String GROUP = "rbac.authorization.k8s.io";

  private final Map<String, JsonObject> clusterRoles = new ConcurrentHashMap<>();
  private final Map<String, JsonObject> roles = new ConcurrentHashMap<>();
  private final Map<String, JsonObject> clusterRoleBindings = new ConcurrentHashMap<>();
  private final Map<String, Map<String, JsonObject>> roleBindings = new ConcurrentHashMap<>();
  private final Policy policy;
  private final Map<String, Resolved> resolved = new ConcurrentHashMap<>();
  private final List<Watch> watches = new ArrayList<>();
  /** Bumped on every RBAC change: a resolution that began before one is not kept (it may have read old rules). */
  private final java.util.concurrent.atomic.AtomicLong generation = new java.util.concurrent.atomic.AtomicLong();

  private record Resolved(List<Policy.Grant> grants, List<PolicyRule> rules, String errors) {}

  private RbacAuthorizer() {
    policy = new Policy(clusterRoles, roles, clusterRoleBindings.values(), new java.util.AbstractMap<>() {
      @Override
      public java.util.Set<Entry<String, java.util.Collection<JsonObject>>> entrySet() {
        throw new UnsupportedOperationException();
      }

      @Override
      public java.util.Collection<JsonObject> get(Object namespace) {
        Map<String, JsonObject> m = roleBindings.get(namespace);
        return m == null ? null : m.values();
      }
    });
  }

  /** The JVM's authorizer, following the store from its first call on. */
  public static Future<RbacAuthorizer> of(Vertx vertx, Store store) {
    Future<RbacAuthorizer> f = PER_JVM.computeIfAbsent(vertx, v -> {
      RbacAuthorizer a = new RbacAuthorizer();
      return a.follow(store).map(a);
    });
    f.onFailure(e -> PER_JVM.remove(vertx, f));
    return f;
  }

  private Future<Void> follow(Store store) {
    List<Future<Watch>> started = new ArrayList<>();
    started.add(watch(store, "clusterroles", (type, o) -> put(clusterRoles, Meta.name(o), type, o)));
    started.add(watch(store, "roles", (type, o) -> put(roles, Meta.namespace(o) + "/" + Meta.name(o), type, o)));
    started.add(watch(store, "clusterrolebindings", (type, o) -> put(clusterRoleBindings, Meta.name(o), type, o)));
    started.add(watch(store, "rolebindings", (type, o) -> put(roleBindings.computeIfAbsent(Meta.namespace(o),
        n -> new ConcurrentHashMap<>()), Meta.name(o), type, o)));
    return Future.all(started).onSuccess(cf -> {
      for (int i = 0; i < cf.size(); i++) watches.add(cf.resultAt(i));
    }).mapEmpty();
  }

  private Future<Watch> watch(Store store, String plural, java.util.function.BiConsumer<String, JsonObject> apply) {
    ResourceType type = Resources.builtIn(GROUP, plural);
    return store.watch(type.storePrefix(), 0, true, o -> true, ev -> {
      if (ev.type().equals(WatchEvent.BOOKMARK) || ev.object() == null) return;
      apply.accept(ev.type(), ev.object());
    });
  }

  private void put(Map<String, JsonObject> map, String key, String type, JsonObject o) {
    if (type.equals(WatchEvent.DELETED)) map.remove(key);
    else map.put(key, o);
    generation.incrementAndGet();
    resolved.clear();
  }

  @Override
  public List<PolicyRule> rules(UserInfo user, String namespace) {
    return resolve(user, namespace).rules();
  }

  @Override
  public String rulesError(UserInfo user, String namespace) {
    return resolve(user, namespace).errors();
  }

  private Resolved resolve(UserInfo user, String namespace) {
    String key = user.name() + '\u0000' + String.join("\u0001", user.groups()) + '\u0000' + namespace;
    Resolved r = resolved.get(key);
    if (r != null) return r;
    long before = generation.get();
    List<String> errors = new ArrayList<>();
    List<Policy.Grant> grants = List.copyOf(policy.grantsFor(user, namespace, errors));
    r = new Resolved(grants, grants.stream().map(Policy.Grant::rule).toList(),
        errors.isEmpty() ? "" : "RBAC: " + String.join(", ", errors));
    // Bounded: a burst of distinct users must not grow it without end (cleared on every RBAC change anyway).
    if (resolved.size() > 10_000) resolved.clear();
    resolved.put(key, r);
    // A change while resolving: drop what may have been computed from the old rules (the change cleared first).
    if (generation.get() != before) resolved.remove(key, r);
    return r;
  }

  /** A Role ("Role", in the namespace) or ClusterRole as the cache holds it, or null. */
  public JsonObject role(String kind, String namespace, String name) {
    return kind.equals("ClusterRole") ? clusterRoles.get(name) : roles.get(namespace + "/" + name);
  }

  /** A RoleBinding (namespace set) or ClusterRoleBinding as the cache holds it, or null. */
  public JsonObject binding(String namespace, String name) {
    if (namespace == null || namespace.isEmpty()) return clusterRoleBindings.get(name);
    Map<String, JsonObject> m = roleBindings.get(namespace);
    return m == null ? null : m.get(name);
  }

  @Override
  public Decision authorize(RequestAttributes request) {
    UserInfo user = request.user();
    if (user.in(UserInfo.MASTERS)) return new Decision(true, "");
    Resolved r = resolve(user, request.resourceRequest() ? request.namespace() : "");
    for (Policy.Grant g : r.grants()) {
      if (g.rule().allows(request)) return new Decision(true, "RBAC: allowed by " + g.source());
    }
    return new Decision(false, r.errors());
  }
}
