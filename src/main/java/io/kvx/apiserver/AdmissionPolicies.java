package io.kvx.apiserver;

import io.kvx.api.AdmissionRules;
import io.kvx.api.AdmissionRules.Attributes;
import io.kvx.api.ApiError;
import io.kvx.api.LabelSelector;
import io.kvx.api.Meta;
import io.kvx.api.PolicyDecisions;
import io.kvx.api.Resources;
import io.kvx.api.ResourceType;
import io.kvx.store.Store;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListMap;

/**
 * kube-apiserver's ValidatingAdmissionPolicy plugin, one per JVM: policies and their bindings come from the JVM's watch
 * cache; for a request each binding whose policy matches is evaluated ({@link PolicyDecisions}) with its params (the
 * object paramRef names, or each one its selector picks, of the policy's paramKind) and the request's namespace. The
 * first denial fails the request; Warn bindings add warnings. Without bindings nothing is looked at per request.
 */
public final class AdmissionPolicies {

  private static final Map<Vertx, Future<AdmissionPolicies>> PER_JVM = new ConcurrentHashMap<>();
  static final ResourceType POLICIES = Resources.builtIn(AdmissionRules.OWN_GROUP, "validatingadmissionpolicies");
  static final ResourceType BINDINGS = Resources.builtIn(AdmissionRules.OWN_GROUP, "validatingadmissionpolicybindings");

  private final Store store;
  private final Map<String, JsonObject> policies = new ConcurrentHashMap<>();
  private final Map<String, JsonObject> bindings = new ConcurrentSkipListMap<>();

  private AdmissionPolicies(Store store) {
    this.store = store;
  }

  /** The JVM's policies, following the store from the first call on. */
  public static Future<AdmissionPolicies> of(Vertx vertx, Store store) {
    Future<AdmissionPolicies> f = PER_JVM.computeIfAbsent(vertx, v -> {
      AdmissionPolicies p = new AdmissionPolicies(store);
      return Future.all(AdmissionWebhooks.follow(store, POLICIES, p.policies),
          AdmissionWebhooks.follow(store, BINDINGS, p.bindings)).map(p);
    });
    f.onFailure(e -> PER_JVM.remove(vertx, f));
    return f;
  }

  /** Whether no policy is bound. */
  public boolean isEmpty() {
    return bindings.isEmpty();
  }

  /** The policies' decisions on a request: the first denial fails it, warnings are added. */
  public Future<Void> validate(Attributes a, Resources resources, List<String> warnings) {
    if (bindings.isEmpty() || !AdmissionRules.admitted(a.type())) return Future.succeededFuture();
    List<JsonObject[]> candidates = new ArrayList<>();
    for (JsonObject binding : bindings.values()) {
      JsonObject policy = policies.get(binding.getJsonObject("spec", new JsonObject()).getString("policyName", ""));
      if (policy == null) continue;
      JsonObject match = policy.getJsonObject("spec", new JsonObject()).getJsonObject("matchConstraints");
      // The rules first (no I/O): most requests stop here.
      if (match == null || !AdmissionRules.rulesMatch(match.getJsonArray("resourceRules"), a)) continue;
      candidates.add(new JsonObject[] {policy, binding});
    }
    if (candidates.isEmpty()) return Future.succeededFuture();
    Future<JsonObject> namespace = a.type().namespaced() && a.namespace() != null
        ? store.getCached(Resources.NAMESPACES.key(null, a.namespace())).recover(e -> Future.succeededFuture(null))
        : Future.succeededFuture(AdmissionRules.isNamespace(a.type()) ? (a.object() != null ? a.object() : a.oldObject())
            : null);
    return namespace.compose(ns -> {
      Map<String, String> labels = ns == null ? Map.of() : Meta.labels(ns);
      List<Future<List<PolicyDecisions.Decision>>> decided = new ArrayList<>();
      for (JsonObject[] c : candidates) {
        JsonObject policy = c[0];
        JsonObject binding = c[1];
        if (!PolicyDecisions.matches(policy.getJsonObject("spec").getJsonObject("matchConstraints"), a, labels)
            || !PolicyDecisions.matches(binding.getJsonObject("spec").getJsonObject("matchResources"), a, labels)) {
          continue;
        }
        JsonObject nsObject = a.type().namespaced() ? ns : null;
        decided.add(params(policy, binding, a, resources).map(found -> {
          if (!found.kindServed()) return List.of(PolicyDecisions.paramKindMissing(policy, binding, a));
          if (found.objects() == null) return List.of(PolicyDecisions.paramsMissing(policy, binding, a));
          if (found.objects().isEmpty()) return List.of(PolicyDecisions.evaluate(policy, binding, a, null, nsObject));
          List<PolicyDecisions.Decision> out = new ArrayList<>();
          for (JsonObject p : found.objects()) out.add(PolicyDecisions.evaluate(policy, binding, a, p, nsObject));
          return out;
        }));
      }
      return Future.all(decided).compose(all -> {
        ApiError denial = null;
        for (int i = 0; i < decided.size(); i++) {
          for (PolicyDecisions.Decision d : decided.get(i).result()) {
            synchronized (warnings) {
              warnings.addAll(d.warnings());
            }
            if (denial == null) denial = d.denial();
          }
        }
        return denial == null ? Future.succeededFuture() : Future.failedFuture(denial);
      });
    });
  }

  /** The params a binding gives its policy (see {@link Params}). */
  private Future<Params> params(JsonObject policy, JsonObject binding, Attributes a, Resources resources) {
    JsonObject kind = policy.getJsonObject("spec").getJsonObject("paramKind");
    if (kind == null) return Future.succeededFuture(Params.NONE_WANTED);
    JsonObject ref = binding.getJsonObject("spec").getJsonObject("paramRef");
    String[] gv = kind.getString("apiVersion", "v1").split("/", 2);
    String group = gv.length == 2 ? gv[0] : "";
    String version = gv.length == 2 ? gv[1] : gv[0];
    Optional<ResourceType> type = resources.inGroupVersion(group, version).stream()
        .filter(t -> t.kind().equals(kind.getString("kind"))).findFirst();
    if (type.isEmpty()) return Future.succeededFuture(Params.KIND_MISSING);
    if (ref == null) return Future.succeededFuture(Params.MISSING);
    String ns = !type.get().namespaced() ? null
        : ref.getString("namespace") != null ? ref.getString("namespace") : a.namespace();
    if (ref.getString("name") != null) {
      return store.getCached(type.get().key(ns, ref.getString("name")))
          .map(p -> new Params(List.of(p)))
          .recover(e -> Future.succeededFuture(Params.MISSING));
    }
    LabelSelector selector = LabelSelector.fromJson(ref.getJsonObject("selector", new JsonObject()));
    String prefix = type.get().storePrefix() + (ns == null ? "" : ns + "/");
    return store.listCached(prefix, o -> selector.matches(Meta.labels(o)))
        .map(l -> l.items().isEmpty() ? Params.MISSING : new Params(List.copyOf(l.items())));
  }

  /**
   * The params found: the objects (evaluated once each), an empty list when the policy takes none (evaluated once with
   * params null), or null when it wants some and there are none; {@code kindServed} false when its paramKind names no
   * served resource.
   */
  private record Params(List<JsonObject> objects, boolean kindServed) {
    static final Params NONE_WANTED = new Params(List.of(), true);
    static final Params MISSING = new Params(null, true);
    static final Params KIND_MISSING = new Params(null, false);

    Params(List<JsonObject> objects) {
      this(objects, true);
    }
  }
}
