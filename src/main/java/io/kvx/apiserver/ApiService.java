package io.kvx.apiserver;

import io.kvx.api.AdmissionRules;
import io.kvx.api.ApiError;
import io.kvx.api.CustomResources;
import io.kvx.api.Conversions;
import io.kvx.api.Defaults;
import io.kvx.api.FieldSelector;
import io.kvx.api.FieldValidation;
import io.kvx.api.Json;
import io.kvx.api.LabelSelector;
import io.kvx.api.ManagedFields;
import io.kvx.api.Meta;
import io.kvx.api.Patches;
import io.kvx.api.PodDisruption;
import io.kvx.api.Quotas;
import io.kvx.api.ResourceType;
import io.kvx.api.SchemaValidator;
import io.kvx.api.Resources;
import io.kvx.api.Validation;
import io.kvx.store.ListResult;
import io.kvx.store.Store;
import io.kvx.store.StoreKeys;
import io.kvx.store.Watch;
import io.kvx.store.WatchEvent;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.function.Predicate;

/**
 * The registry layer: what kube-apiserver does between decoding a request and the store. Defaulting,
 * validation, admission (namespace lifecycle), status/spec separation, graceful pod deletion and
 * bindings. Transport-free: HTTP and the event bus both call it.
 */
public final class ApiService {

  private static final String ALPHANUMS = "bcdfghjklmnpqrstvwxz2456789";
  private static final int MAX_CONFLICT_RETRIES = 5;
  private static final String POD_UPDATE_FORBIDDEN = "Forbidden: pod updates may not change fields other than "
      + "`spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` "
      + "(only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if "
      + "it was previously negative)";

  private final Store store;
  private final Resources resources;
  private final SecureRandom random = new SecureRandom();

  private final ServiceAllocator allocator;

  public ApiService(Store store, Resources resources, ServiceAllocator allocator) {
    this.store = store;
    this.resources = resources;
    this.allocator = allocator;
  }

  private ServiceAccountTokens tokens;

  public void setTokens(ServiceAccountTokens tokens) {
    this.tokens = tokens;
  }

  private AdmissionWebhooks webhooks;
  private AdmissionPolicies policies;
  /** The user of a write made on behalf of a request admission has already seen (not admitted again). */
  private static final io.kvx.rbac.UserInfo ADMITTED = new io.kvx.rbac.UserInfo("system:kvx:admitted", List.of());

  /** The admission the cluster's configuration adds: webhooks and ValidatingAdmissionPolicies. */
  public void setAdmission(AdmissionWebhooks webhooks, AdmissionPolicies policies) {
    this.webhooks = webhooks;
    this.policies = policies;
  }

  public ServiceAllocator allocator() {
    return allocator;
  }

  private static boolean isAdmissionPolicy(ResourceType type) {
    return type.group().equals(AdmissionRules.OWN_GROUP) && type.plural().equals("validatingadmissionpolicies");
  }

  private static boolean isDaemonSet(ResourceType type) {
    return type.group().equals("apps") && type.plural().equals("daemonsets");
  }

  private static boolean isService(ResourceType type) {
    return type.group().isEmpty() && type.plural().equals("services");
  }

  public Resources resources() {
    return resources;
  }

  public Store store() {
    return store;
  }

  /** Every verb but watch and log; the result is the reply body. */
  public Future<JsonObject> handle(ApiRequest r) {
    Conversions.Conversion c = Conversions.of(r.type());
    return c == null ? handleStored(r) : ConvertedRequests.handle(r, c, this::handleStored);
  }

  private Future<JsonObject> handleStored(ApiRequest r) {
    try {
      checkOptions(r);
      if (r.type().createOnly()) {
        if (!r.verb().equals("create")) throw ApiError.methodNotAllowed();
        // A Binding in the namespace: the pod it names is bound as by pods/NAME/binding.
        String pod = Meta.name(r.body());
        if (pod == null || pod.isEmpty()) {
          throw ApiError.invalid("", "Binding", "", List.of(new ApiError.Cause("metadata.name", "FieldValueRequired",
              "Required value: name or generateName is required")));
        }
        return bind(new ApiRequest("create", Resources.PODS, r.namespace(), pod, "binding", r.body(), null, r.query(),
            r.warnings(), r.userAgent()).withUser(r.user()));
      }
      if ("scale".equals(r.subresource())) return scale(r);
      if ("eviction".equals(r.subresource()) && r.verb().equals("create")) return evict(r);
      if ("token".equals(r.subresource()) && r.verb().equals("create")) {
        if (tokens == null) {
          throw new ApiError(ApiError.Reason.ServiceUnavailable, "no ServiceAccount token signing key is configured");
        }
        return admitConfigured(r, "CREATE", r.body() == null ? new JsonObject() : r.body().copy(), null)
            .compose(v -> store.get(key(r, r.name()))).compose(sa -> boundObjects(r, sa).map(bound ->
                tokens.issue(sa, r.body(), bound)));
      }
      return switch (r.verb()) {
        case "get" -> get(r);
        case "list" -> list(r).map(res -> listObject(r, res));
        case "create" -> "binding".equals(r.subresource()) ? bind(r) : create(r);
        case "update" -> update(r);
        case "patch" -> patch(r);
        case "delete" -> delete(r);
        case "deletecollection" -> deleteCollection(r);
        default -> Future.failedFuture(ApiError.methodNotAllowed());
      };
    } catch (ApiError e) {
      return Future.failedFuture(e);
    }
  }

  /**
   * What a dry-run create answers, as kube-apiserver's: the object with the system fields a create sets
   * (uid, creationTimestamp, generation 1 where kept), but no resourceVersion, since nothing was stored.
   */
  static JsonObject dryRunCreated(String key, JsonObject obj) {
    JsonObject meta = Meta.meta(obj);
    if (meta.getString("uid") == null) meta.put("uid", java.util.UUID.randomUUID().toString());
    meta.put("creationTimestamp", Meta.now());
    if (StoreKeys.tracksGeneration(key)) meta.put("generation", 1);
    return obj;
  }

  private String key(ApiRequest r, String name) {
    return r.type().key(r.namespace(), name);
  }

  public Future<JsonObject> get(ApiRequest r) {
    return store.get(key(r, r.name())).map(o -> present(r.type(), o));
  }

  /**
   * A list, with selectors, paging and the list's resourceVersion, read as kube-apiserver reads one: the newest
   * objects when no resourceVersion is given (or "0"); not older than it with resourceVersionMatch=NotOlderThan
   * (and, without a limit, when no match is given); exactly at it with resourceVersionMatch=Exact (and, with a
   * limit, when no match is given); every page of a continued list at its first page's revision, 410 with a
   * token to go on inconsistently once that revision is compacted.
   */
  public Future<ListResult> list(ApiRequest r) {
    Predicate<JsonObject> filter = filter(r);
    int limit = r.param("limit") == null ? 0 : parseInt(r.param("limit"), "limit");
    checkListOptions(r);
    String prefix = prefix(r);
    String rv = r.param("resourceVersion");
    String cont = r.param("continue");
    if (cont != null && !cont.isEmpty()) {
      if (rv != null && !rv.isEmpty() && !rv.equals("0")) {
        throw ApiError.badRequest("specifying resource version is not allowed when using continue");
      }
      Continue c = Continue.decode(cont);
      String after = prefix + c.start();
      long at = Math.max(0, c.revision());
      return store.list(prefix, filter, limit, after, at).recover(e -> {
        if (!ApiError.is(e, ApiError.Reason.Expired)) return Future.failedFuture(e);
        // kube's answer when a continued list's revision is compacted: go on at the newest, knowingly.
        return Future.failedFuture(ApiError.gone(CONTINUE_TOO_OLD)
            .withContinue(new Continue(-1, c.start()).encode()));
      });
    }
    long version = rv == null || rv.isEmpty() ? 0 : Meta.parseVersion(rv);
    if (version == 0) return store.list(prefix, filter, limit, null, 0);
    String match = r.param("resourceVersionMatch");
    boolean exact = "Exact".equals(match) || ((match == null || match.isEmpty()) && limit > 0);
    if (exact) return store.list(prefix, filter, limit, null, version);
    return store.awaitRevision(version).compose(v -> store.list(prefix, filter, limit, null, 0));
  }

  private static final String CONTINUE_TOO_OLD = "The provided continue parameter is too old to display a consistent "
      + "list result. You can start a new list without the continue parameter, or use the continue token in this "
      + "response to retrieve the remainder of the results. Continuing with the provided token results in an "
      + "inconsistent list - objects that were created, modified, or deleted between the time the first chunk was "
      + "returned and now may show up in the list.";

  /** kube's ListOptions validation for a list (a watch has its own, in HttpApi): 422 naming each field. */
  private static void checkListOptions(ApiRequest r) {
    List<ApiError.Cause> causes = new java.util.ArrayList<>();
    String match = r.param("resourceVersionMatch");
    String rv = r.param("resourceVersion");
    if (match != null && !match.isEmpty()) {
      if (rv == null || rv.isEmpty()) {
        causes.add(forbidden("resourceVersionMatch", "resourceVersionMatch is forbidden unless resourceVersion is provided"));
      }
      if (r.param("continue") != null && !r.param("continue").isEmpty()) {
        causes.add(forbidden("resourceVersionMatch", "resourceVersionMatch is forbidden when continue is provided"));
      }
      if (!match.equals("Exact") && !match.equals("NotOlderThan")) {
        causes.add(new ApiError.Cause("resourceVersionMatch", "FieldValueNotSupported", "Unsupported value: \""
            + match + "\": supported values: \"Exact\", \"NotOlderThan\", \"\""));
      }
      if (match.equals("Exact") && "0".equals(rv)) {
        causes.add(forbidden("resourceVersionMatch", "resourceVersionMatch \"exact\" is forbidden for resourceVersion \"0\""));
      }
    }
    if (r.param("sendInitialEvents") != null) {
      causes.add(forbidden("sendInitialEvents", "sendInitialEvents is forbidden for list"));
    }
    if (!causes.isEmpty()) throw ApiError.invalid("meta.k8s.io", "ListOptions", "", causes);
  }

  static ApiError.Cause forbidden(String field, String why) {
    return new ApiError.Cause(field, "FieldValueForbidden", "Forbidden: " + why);
  }

  /**
   * A list's continue token, as kube-apiserver encodes it: base64url JSON {"v":"meta.k8s.io/v1","rv":R,"start":K}
   * with K the last key served, relative to the list's key prefix (so a token cannot reach outside the list it
   * came from); R -1 goes on at the newest revision.
   */
  record Continue(long revision, String start) {
    String encode() {
      String token = new JsonObject().put("v", "meta.k8s.io/v1").put("rv", revision).put("start", start).encode();
      return Base64.getUrlEncoder().encodeToString(token.getBytes(StandardCharsets.UTF_8));
    }

    static Continue decode(String token) {
      JsonObject c;
      try {
        c = new JsonObject(new String(Base64.getUrlDecoder().decode(token), StandardCharsets.UTF_8));
      } catch (RuntimeException e) {
        throw ApiError.badRequest("invalid continue token: continue key is not valid: not a base64 encoded JSON "
            + "object");
      }
      if (!"meta.k8s.io/v1".equals(c.getValue("v"))) {
        throw ApiError.badRequest("invalid continue token: continue key is not valid: server does not recognize "
            + "this encoded version");
      }
      Object rv = c.getValue("rv");
      Object start = c.getValue("start");
      if (!(rv instanceof Number n) || n.longValue() == 0) {
        throw ApiError.badRequest("invalid continue token: continue key is not valid: incorrect encoded start "
            + "resourceVersion (version meta.k8s.io/v1)");
      }
      if (!(start instanceof String k) || k.isEmpty()) {
        throw ApiError.badRequest("invalid continue token: continue key is not valid: encoded start key empty");
      }
      if (k.startsWith("/") || k.contains("..")) {
        throw ApiError.badRequest("invalid continue token: continue key is not valid: the start key may not reach "
            + "outside the list");
      }
      return new Continue(n.longValue(), k);
    }
  }

  private JsonObject listObject(ApiRequest r, ListResult res) {
    ResourceType type = r.type();
    JsonObject meta = new JsonObject().put("resourceVersion", String.valueOf(res.revision()));
    if (res.continueAfter() != null) {
      meta.put("continue", new Continue(res.revision(), res.continueAfter().substring(prefix(r).length())).encode());
      meta.put("remainingItemCount", res.remaining());
    }
    return new JsonObject().put("kind", type.kind() + "List").put("apiVersion", type.apiVersion())
        .put("metadata", meta).put("items", new JsonArray(type.isCustom()
            ? res.items().stream().map(o -> present(type, o)).toList() : res.items()));
  }

  /** Starts a watch (DESIGN §2.4); the handler gets events on the caller's context. */
  public Future<Watch> watch(ApiRequest r, boolean initialEvents, Handler<WatchEvent> handler) {
    long from = r.param("resourceVersion") == null ? 0 : Meta.parseVersion(r.param("resourceVersion"));
    return store.watch(prefix(r), from, initialEvents, filter(r), handler);
  }

  private String prefix(ApiRequest r) {
    if (!r.type().namespaced() || r.namespace() == null) return r.type().storePrefix();
    String fieldName = r.param("fieldSelector") == null ? null
        : FieldSelector.parse(r.param("fieldSelector"), r.type()).singleName();
    String base = r.type().storePrefix() + r.namespace() + "/";
    return fieldName == null ? base : base + fieldName;
  }

  private Predicate<JsonObject> filter(ApiRequest r) {
    LabelSelector labels = LabelSelector.parse(r.param("labelSelector"));
    FieldSelector fields = FieldSelector.parse(r.param("fieldSelector"), r.type());
    String singleName = fields.singleName();
    Predicate<JsonObject> filter = o -> (singleName == null || singleName.equals(Meta.name(o)))
        && labels.matches(Meta.labels(o)) && fields.matches(o);
    // A kubelet's watch (spec.nodeName=NODE) is served from the watch cache's node index.
    String node = r.type() == Resources.PODS ? fields.exact("spec.nodeName") : null;
    return node == null ? filter : new io.kvx.store.IndexedFilter("spec.nodeName", node, filter);
  }

  private Future<JsonObject> create(ApiRequest r) {
    if (r.subresource() != null) throw ApiError.methodNotAllowed();
    checkKind(r.type(), r.body());
    String manager = fieldManager(r, "CreateOptions");
    Object requestedManaged = Meta.meta(r.body()).getValue("managedFields");
    JsonObject body = r.body().copy();
    Meta.meta(body).remove("managedFields");
    JsonObject obj = Json.normalize(r.type(), checkFields(r, body));
    JsonObject meta = Meta.meta(obj);
    if (r.type().namespaced()) {
      checkNamespaceMatchesUrl(r, meta.getString("namespace"));
      meta.put("namespace", r.namespace());
    } else {
      meta.remove("namespace");
    }
    if ((meta.getString("name") == null || meta.getString("name").isEmpty()) && meta.getString("generateName") != null) {
      meta.put("name", meta.getString("generateName") + randomSuffix());
    }
    for (String f : List.of("uid", "resourceVersion", "creationTimestamp", "deletionTimestamp", "generation")) {
      meta.remove(f);
    }
    if (r.type() == Resources.PODS) {
      obj.remove("status");
      Object ephemeral = obj.getJsonObject("spec", new JsonObject()).getValue("ephemeralContainers");
      if (ephemeral instanceof JsonArray a && !a.isEmpty()) {
        throw ApiError.invalid("", "Pod", Meta.name(obj), List.of(new ApiError.Cause("spec.ephemeralContainers",
            "FieldValueForbidden", "Forbidden: cannot be set on create")));
      }
    }
    // As kube-apiserver: defaults, the field manager, then admission and the strategy's own fields (which no manager
    // owns), then validation of the object as it will be stored.
    Defaults.withoutAdmission(r.type(), obj);
    ManagedFields.Context owner = new ManagedFields.Context(r.type(), manager, null, Meta.now());
    setManaged(obj, r.isApply()
        ? ManagedFields.apply(owner, new JsonObject(), obj, r.body(), true)
        : ManagedFields.update(owner, new JsonObject(), obj, ManagedFields.fromRequest(requestedManaged, null, null)));
    if (r.type() == Resources.PODS) Defaults.podAdmission(obj);
    if (r.type().kind().equals("Job") && !r.type().isCustom()) {
      Defaults.jobIdentity(obj, java.util.UUID.randomUUID().toString());
    }
    if (isDaemonSet(r.type())) Defaults.daemonSetTemplateGeneration(null, obj);
    if (isAdmissionPolicy(r.type())) obj.put("status", io.kvx.api.AdmissionConfigs.policyStatus(1));
    validate(r.type(), obj, null);
    if (isCrd(r.type())) obj.put("status", CustomResources.status(obj, Meta.now()));
    Future<Void> admitted = r.type().namespaced() ? admitNamespace(r, Meta.name(obj)) : Future.succeededFuture();
    if (r.type() == Resources.PODS) {
      admitted = admitted.compose(v -> admitServiceAccount(r.namespace(), obj)).compose(v -> admitPriority(obj,
          r.body()));
    }
    if (r.type() == CLAIMS) admitted = admitted.compose(v -> admitStorageClass(obj));
    if (r.type() == CLAIMS) protect(obj, "kubernetes.io/pvc-protection");
    if (r.type() == VOLUMES) protect(obj, "kubernetes.io/pv-protection");
    if (isCrd(r.type())) protect(obj, CRD_CLEANUP);
    if (r.type().isCustom()) admitted = admitted.compose(v -> admitCustomObject(r.type()));
    // The webhooks after kvx's own admission, then the quota last, as kube-apiserver orders its plugins.
    admitted = admitted.compose(v -> admitConfigured(r, "CREATE", obj, null))
        .compose(v -> admitPodSecurity(r, obj, null));
    if (r.type().namespaced()) admitted = admitted.compose(v -> admitQuota(r, obj));
    return admitted.compose(v -> {
      if (r.dryRun()) return Future.succeededFuture(dryRunCreated(key(r, Meta.name(obj)), obj));
      if (isService(r.type())) {
        return allocator.allocate(obj).compose(o -> store.create(key(r, Meta.name(o)), o)
            .recover(e -> allocator.releaseAll(obj).transform(x -> Future.failedFuture(e))));
      }
      return store.create(key(r, Meta.name(obj)), obj);
    });
  }

  /** The finalizer kube's apiextensions server puts on every definition: its custom objects go before it does. */
  static final String CRD_CLEANUP = "customresourcecleanup.apiextensions.k8s.io";
  private static final ResourceType CRDS = Resources.builtIn("apiextensions.k8s.io", "customresourcedefinitions");

  /** No new custom objects of a definition being deleted (kube's 405). */
  private Future<Void> admitCustomObject(ResourceType type) {
    return store.getCached(CRDS.key(null, type.plural() + "." + type.group())).transform(ar -> {
      if (ar.succeeded() && Meta.meta(ar.result()).containsKey("deletionTimestamp")) {
        return Future.failedFuture(new ApiError(ApiError.Reason.MethodNotAllowed,
            "create not allowed while custom resource definition is terminating"));
      }
      return Future.succeededFuture();
    });
  }

  /**
   * kube's definition finalizer: deletes each custom object of a definition being deleted as a client's delete would
   * (their own finalizers honoured), and once none is left removes {@link #CRD_CLEANUP}, so the definition goes. Runs
   * until then (every second while objects remain) or until the definition is gone; idempotent, so an API server that
   * starts finds and resumes what another left.
   */
  public Future<Void> cleanUpDefinition(String name) {
    String key = CRDS.key(null, name);
    return store.get(key).compose(crd -> {
      JsonObject meta = Meta.meta(crd);
      if (!meta.containsKey("deletionTimestamp") || !meta.getJsonArray("finalizers", new JsonArray()).contains(CRD_CLEANUP)) {
        return Future.<Void>succeededFuture();
      }
      List<ResourceType> types = CustomResources.types(crd);
      // No version served: nothing can delete its objects through the API (as the DELETED watch's cleanup finds).
      if (types.isEmpty()) return dropCleanupFinalizer(key, crd);
      // Every version shares one storage prefix; any served one deletes.
      ResourceType type = types.getFirst();
      return store.list(type.storePrefix(), o -> true, 0, null).compose(res -> {
        if (res.items().isEmpty()) return dropCleanupFinalizer(key, crd);
        List<Future<JsonObject>> deletes = new java.util.ArrayList<>();
        for (JsonObject item : res.items()) {
          if (Meta.meta(item).containsKey("deletionTimestamp")) continue;
          deletes.add(delete(new ApiRequest("delete", type, Meta.namespace(item), Meta.name(item), null, null, null,
              java.util.Map.of())).recover(e -> Future.succeededFuture()));
        }
        io.vertx.core.Context context = io.vertx.core.Vertx.currentContext();
        if (context == null) return Future.join(deletes).<Void>mapEmpty();
        return Future.join(deletes).transform(x -> context.owner().timer(1000)).compose(v -> cleanUpDefinition(name));
      });
    }).recover(e -> {
      if (ApiError.is(e, ApiError.Reason.NotFound)) return Future.succeededFuture(); // the definition is gone
      if (ApiError.is(e, ApiError.Reason.Conflict)) return cleanUpDefinition(name); // changed meanwhile: look again
      return Future.failedFuture(e);
    });
  }

  /** The definition without {@link #CRD_CLEANUP}; gone if that was its last finalizer. */
  private Future<Void> dropCleanupFinalizer(String key, JsonObject crd) {
    JsonObject next = crd.copy();
    JsonArray left = Meta.meta(next).getJsonArray("finalizers").copy();
    left.remove(CRD_CLEANUP);
    Meta.meta(next).put("finalizers", left);
    return (left.isEmpty() ? store.delete(key, Meta.resourceVersion(crd), null)
        : store.update(key, next, Meta.resourceVersion(crd))).mapEmpty();
  }

  private static final ResourceType CLAIMS = Resources.builtIn("", "persistentvolumeclaims");
  private static final ResourceType STORAGE_CLASSES = Resources.builtIn("storage.k8s.io", "storageclasses");
  private static final ResourceType PDBS = Resources.builtIn("policy", "poddisruptionbudgets");
  private static final ResourceType VOLUMES = Resources.builtIn("", "persistentvolumes");

  /**
   * StorageObjectInUseProtection admission: claims get the kubernetes.io/pvc-protection finalizer and volumes
   * kubernetes.io/pv-protection; the volume binder removes them once no pod uses the claim / no claim the volume.
   */
  private static void protect(JsonObject obj, String finalizer) {
    JsonArray finalizers = Meta.meta(obj).getJsonArray("finalizers", new JsonArray());
    if (!finalizers.contains(finalizer)) Meta.meta(obj).put("finalizers", finalizers.copy().add(finalizer));
  }

  /**
   * DefaultStorageClass admission: a claim that names no class (the field absent, not "") gets the class
   * annotated storageclass.kubernetes.io/is-default-class=true (the newest, if several).
   */
  private Future<Void> admitStorageClass(JsonObject pvc) {
    JsonObject spec = pvc.getJsonObject("spec", new JsonObject());
    if (spec.getValue("storageClassName") != null) return Future.succeededFuture();
    return store.listCached(STORAGE_CLASSES.storePrefix(), o -> "true".equals(Meta.meta(o)
            .getJsonObject("annotations", new JsonObject()).getString("storageclass.kubernetes.io/is-default-class")))
        .map(l -> {
          l.items().stream().max(java.util.Comparator.comparing((JsonObject o) ->
                  Meta.meta(o).getString("creationTimestamp", "")).thenComparing(Meta::name))
              .ifPresent(c -> pvc.put("spec", spec.put("storageClassName", Meta.name(c))));
          return null;
        });
  }

  private static final ResourceType SERVICE_ACCOUNTS = Resources.builtIn("", "serviceaccounts");

  /**
   * The ServiceAccount admission plugin on a pod being created: a pod naming an account that does not exist is
   * refused (403, kube's words); the token volume is mounted unless the pod, or else its account, sets
   * automountServiceAccountToken: false. kvx is lenient where kube is not about the namespace's "default" account
   * not existing yet (no controller manager running, or the moment after the namespace was made): the pod is
   * admitted with the token volume, which the kubelet fills once the account exists.
   */
  private Future<Void> admitServiceAccount(String namespace, JsonObject pod) {
    JsonObject spec = pod.getJsonObject("spec");
    String name = spec.getString("serviceAccountName", "default");
    String key = SERVICE_ACCOUNTS.key(namespace, name);
    boolean lenient = name.equals("default");
    Future<JsonObject> account = (lenient ? store.getCached(key) : getThroughCache(key)).recover(e -> {
      if (!ApiError.is(e, ApiError.Reason.NotFound)) return Future.failedFuture(e);
      if (lenient) return Future.succeededFuture(null);
      return Future.failedFuture(new ApiError(ApiError.Reason.Forbidden, "pods \"" + Meta.name(pod)
          + "\" is forbidden: error looking up service account " + namespace + "/" + name + ": serviceaccount \""
          + name + "\" not found", "", "pods", Meta.name(pod), null));
    });
    return account.map(sa -> {
      boolean automount = spec.getValue("automountServiceAccountToken") instanceof Boolean own ? own
          : sa == null || sa.getBoolean("automountServiceAccountToken", true);
      if (automount) Defaults.mountServiceAccountToken(pod, randomSuffix());
      return null;
    });
  }

  private static final ResourceType PRIORITY_CLASSES = Resources.builtIn("scheduling.k8s.io", "priorityclasses");
  /** The classes every cluster has, as kube-apiserver creates them. */
  private static final java.util.Map<String, Integer> SYSTEM_PRIORITY_CLASSES = java.util.Map.of(
      "system-node-critical", 2000001000, "system-cluster-critical", 2000000000);

  /**
   * Priority admission: spec.priorityClassName resolves to spec.priority (and the class's
   * preemptionPolicy when the pod sets none); a pod without a class gets the globalDefault class, if any,
   * else priority 0. An unknown class, or a priority that disagrees with the class, is Forbidden.
   */
  private Future<Void> admitPriority(JsonObject pod, JsonObject asSent) {
    JsonObject spec = pod.getJsonObject("spec", new JsonObject());
    // Defaulting may have filled spec.priority in; only what the client sent must agree with the class.
    Object sent = asSent.getJsonObject("spec", new JsonObject()).getValue("priority");
    String className = spec.getString("priorityClassName");
    String podName = Meta.name(pod);
    Future<JsonObject> cls;
    if (className != null && !className.isEmpty()) {
      Integer system = SYSTEM_PRIORITY_CLASSES.get(className);
      cls = system != null ? Future.succeededFuture(new JsonObject().put("value", system)
              .put("metadata", new JsonObject().put("name", className)))
          : getThroughCache(PRIORITY_CLASSES.key(null, className)).recover(e -> Future.failedFuture(
              ApiError.is(e, ApiError.Reason.NotFound) ? new ApiError(ApiError.Reason.Forbidden, "pods \"" + podName
                  + "\" is forbidden: no PriorityClass with name " + className + " was found", "", "pods", podName,
                  null) : e));
    } else {
      cls = store.listCached(PRIORITY_CLASSES.storePrefix(), o -> o.getBoolean("globalDefault", false))
          .map(l -> l.items().stream().min((a, b) -> Integer.compare(a.getInteger("value", 0),
              b.getInteger("value", 0))).orElse(null));
    }
    return cls.compose(c -> {
      int value = c == null ? 0 : c.getInteger("value", 0);
      Integer given = sent instanceof Number n ? n.intValue() : null;
      if (given != null && given != value) {
        return Future.failedFuture(new ApiError(ApiError.Reason.Forbidden, "pods \"" + podName + "\" is forbidden: "
            + "the integer value of priority (" + given + ") must not be provided in pod spec; priority admission "
            + "controller computed " + value + " from the given PriorityClass name", "", "pods", podName, null));
      }
      if (c != null) spec.put("priorityClassName", Meta.name(c));
      spec.put("priority", value);
      if (!spec.containsKey("preemptionPolicy")) {
        spec.put("preemptionPolicy", c == null ? "PreemptLowerPriority"
            : c.getString("preemptionPolicy", "PreemptLowerPriority"));
      }
      pod.put("spec", spec);
      return Future.succeededFuture();
    });
  }

  /** How long a live lookup that found nothing stands in for the watch cache (kube's liveTTL). */
  private static final long LIVE_LOOKUP_TTL_MS = 30_000;
  /** Prefix -> when its last live lookup found nothing (see {@link #admissionList}). */
  private final java.util.Map<String, Long> emptyLiveLookups = new java.util.concurrent.ConcurrentHashMap<>();

  /**
   * The quotas or LimitRanges of a namespace as the admission plugins see them: the local watch cache,
   * and when it has none a live (barrier) read, whose empty answer is trusted for {@link #LIVE_LOOKUP_TTL_MS},
   * as kube-apiserver's plugins do so that an object created a moment ago through another API server
   * still counts.
   */
  private Future<ListResult> admissionList(String prefix) {
    return store.listCached(prefix, o -> true).compose(cached -> {
      if (!cached.items().isEmpty()) return Future.succeededFuture(cached);
      long now = System.currentTimeMillis();
      Long checked = emptyLiveLookups.get(prefix);
      if (checked != null && now - checked < LIVE_LOOKUP_TTL_MS) return Future.succeededFuture(cached);
      return store.list(prefix, o -> true, 0, null).onSuccess(live -> {
        if (live.items().isEmpty()) emptyLiveLookups.put(prefix, now);
        if (emptyLiveLookups.size() > 10_000) emptyLiveLookups.clear();
      });
    });
  }

  /**
   * LimitRanger and ResourceQuota admission: a new pod gets its namespace's LimitRange defaults (and a
   * 403 outside their min/max); a create that would take a quota's usage over its hard limit gets
   * Kubernetes' 403 "exceeded quota" and nothing is stored.
   */
  private Future<Void> admitQuota(ApiRequest r, JsonObject obj) {
    if (r.type().isCustom() || r.dryRun()) return Future.succeededFuture();
    boolean pod = r.type() == Resources.PODS;
    String ns = r.namespace();
    ResourceType ranges = Resources.builtIn("", "limitranges");
    ResourceType quotas = Resources.builtIn("", "resourcequotas");
    Future<List<JsonObject>> limitRanges = pod
        ? admissionList(ranges.storePrefix() + ns + "/").map(ListResult::items)
        : Future.succeededFuture(List.of());
    return limitRanges.compose(lrs -> {
      String violation = Quotas.applyLimitRanges(obj, lrs);
      if (violation != null) {
        return Future.failedFuture(new ApiError(ApiError.Reason.Forbidden, "pods \"" + Meta.name(obj)
            + "\" is forbidden: " + violation, "", "pods", Meta.name(obj), null));
      }
      return admissionList(quotas.storePrefix() + ns + "/");
    }).compose(qs -> {
      if (qs.items().isEmpty()) return Future.<Void>succeededFuture();
      String plural = r.type().plural();
      java.util.Map<String, Long> delta = new java.util.TreeMap<>();
      if (pod) delta.putAll(Quotas.podResources(obj));
      if (r.type() == SERVICES) delta.putAll(Quotas.serviceDelta(obj));
      delta.put(plural, 1L);
      delta.put("count/" + plural + (r.type().group().isEmpty() ? "" : "." + r.type().group()), 1L);
      if (pod) delta.put("count/pods", 1L);
      // A scoped quota (BestEffort, Terminating, PriorityClass...) counts only the pods in its scopes.
      List<JsonObject> applying = qs.items().stream()
          .filter(q -> pod ? Quotas.inScope(q, obj) : !Quotas.scoped(q)).toList();
      if (applying.isEmpty()) return Future.<Void>succeededFuture();
      for (JsonObject q : applying) {
        String missing = pod ? Quotas.missing(q, obj) : null;
        if (missing != null) {
          return Future.<Void>failedFuture(new ApiError(ApiError.Reason.Forbidden, "pods \"" + Meta.name(obj)
              + "\" is forbidden: failed quota: " + Meta.name(q) + ": " + missing, "", "pods", Meta.name(obj), null));
        }
      }
      return quotaInputs(ns).compose(in -> {
        for (JsonObject q : applying) {
          String message = Quotas.exceeded(q, Quotas.usage(q, in.pods(), in.services(), in.counts()), delta);
          if (message != null) {
            return Future.<Void>failedFuture(new ApiError(ApiError.Reason.Forbidden, plural + " \"" + Meta.name(obj)
                + "\" is forbidden: " + message, r.type().group(), plural, Meta.name(obj), null));
          }
        }
        return Future.<Void>succeededFuture();
      });
    });
  }

  /** What a namespace's quotas count, from the store: its pods, its Services, and the counted kinds' numbers. */
  private record QuotaInputs(List<JsonObject> pods, List<JsonObject> services, java.util.Map<String, Integer> counts) {}

  private static final ResourceType SERVICES = Resources.builtIn("", "services");

  private Future<QuotaInputs> quotaInputs(String ns) {
    Future<List<JsonObject>> pods = store.list(Resources.PODS.storePrefix() + ns + "/", o -> true, 0, null)
        .map(ListResult::items);
    Future<List<JsonObject>> services = store.list(SERVICES.storePrefix() + ns + "/", o -> true, 0, null)
        .map(ListResult::items);
    java.util.Map<String, Integer> counts = new java.util.concurrent.ConcurrentHashMap<>();
    List<Future<?>> all = new java.util.ArrayList<>(List.of(pods, services));
    for (String plural : Quotas.COUNTED.keySet()) {
      if (plural.equals("services")) continue;
      ResourceType t = Resources.builtIn("", plural);
      all.add(store.list(t.storePrefix() + ns + "/", o -> true, 0, null).onSuccess(l -> counts.put(plural,
          l.items().size())));
    }
    return Future.all(all).map(v -> {
      counts.put("services", services.result().size());
      return new QuotaInputs(pods.result(), services.result(), counts);
    });
  }

  /**
   * An admission lookup as kube-apiserver's plugins make them: from the local cache (their listers), and only when
   * the object is not there, from the store after the read barrier (their live lookup), so that an object created a
   * moment ago through another API server is found.
   */
  private Future<JsonObject> getThroughCache(String key) {
    return store.getCached(key).recover(e -> ApiError.is(e, ApiError.Reason.NotFound) ? store.get(key)
        : Future.failedFuture(e));
  }

  /** An object by its store key, from the local cache and, when it is not there, from the store. */
  public Future<JsonObject> lookup(String key) {
    return getThroughCache(key);
  }

  /**
   * The claims of a token bound to spec.boundObjectRef (a Pod or Secret of the account's namespace, or a Node), as
   * kube-apiserver checks them: the object must exist (its NotFound otherwise), match a given uid (409), and a pod
   * must run as the account (400); a pod's node is named too. Empty when the request binds nothing.
   */
  private Future<JsonObject> boundObjects(ApiRequest r, JsonObject account) {
    JsonObject ref = r.body() == null ? null : r.body().getJsonObject("spec", new JsonObject())
        .getJsonObject("boundObjectRef");
    if (ref == null) return Future.succeededFuture(new JsonObject());
    String apiVersion = ref.getString("apiVersion", "");
    String kind = ref.getString("kind", "");
    String name = ref.getString("name", "");
    ResourceType type = switch (kind) {
      case "Pod" -> Resources.PODS;
      case "Secret" -> Resources.builtIn("", "secrets");
      case "Node" -> Resources.NODES;
      default -> null;
    };
    if (type == null || !apiVersion.equals("v1")) {
      String group = apiVersion.contains("/") ? apiVersion.substring(0, apiVersion.indexOf('/')) : "";
      String version = apiVersion.substring(apiVersion.indexOf('/') + 1);
      return Future.failedFuture(ApiError.badRequest("cannot bind token to object of type " + group + "/" + version
          + ", Kind=" + kind));
    }
    String accountName = Meta.name(account);
    return getThroughCache(type.key(r.namespace(), name)).recover(e -> Future.failedFuture(
        ApiError.is(e, ApiError.Reason.NotFound) ? ApiError.notFound("", type.plural(), name) : e)).compose(obj -> {
      String uid = ref.getString("uid", "");
      if (!uid.isEmpty() && !uid.equals(Meta.uid(obj))) {
        return Future.failedFuture(ApiError.conflict("", kind, name, "the UID in the bound object reference (" + uid
            + ") does not match the UID in record (" + Meta.uid(obj) + "). The object might have been deleted and then "
            + "recreated"));
      }
      JsonObject claim = new JsonObject().put("name", name).put("uid", Meta.uid(obj));
      JsonObject bound = new JsonObject().put(kind.toLowerCase(), claim);
      if (type != Resources.PODS) return Future.succeededFuture(bound);
      JsonObject spec = obj.getJsonObject("spec", new JsonObject());
      if (!accountName.equals(spec.getString("serviceAccountName", "default"))) {
        return Future.failedFuture(ApiError.badRequest("cannot bind token for serviceaccount \"" + accountName
            + "\" to pod running with different serviceaccount name."));
      }
      String nodeName = spec.getString("nodeName");
      if (nodeName == null) return Future.succeededFuture(bound);
      return getThroughCache(Resources.NODES.key(null, nodeName)).map(node -> bound.put("node",
          new JsonObject().put("name", nodeName).put("uid", Meta.uid(node))))
          .recover(e -> Future.succeededFuture(bound.put("node", new JsonObject().put("name", nodeName))));
    });
  }

  /** NamespaceLifecycle admission: the namespace must exist and not be terminating. */
  private Future<Void> admitNamespace(ApiRequest r, String name) {
    String namespace = r.namespace();
    return getThroughCache(Resources.NAMESPACES.key(null, namespace)).recover(e -> {
      if (ApiError.is(e, ApiError.Reason.NotFound)) {
        return Future.failedFuture(ApiError.notFound("", "namespaces", namespace));
      }
      return Future.failedFuture(e);
    }).compose(ns -> {
      if (Meta.meta(ns).containsKey("deletionTimestamp")) {
        // kube's admission Forbidden: about the object being created, with the NamespaceTerminating cause.
        String why = "unable to create new content in namespace " + namespace + " because it is being terminated";
        String resource = r.type().group().isEmpty() ? r.type().plural() : r.type().plural() + "." + r.type().group();
        return Future.failedFuture(new ApiError(ApiError.Reason.Forbidden, resource + " \"" + (name == null ? "" : name)
            + "\" is forbidden: " + why, r.type().group(), r.type().plural(), name,
            List.of(new ApiError.Cause("metadata.namespace", "NamespaceTerminating", why))));
      }
      return Future.succeededFuture();
    });
  }

  private void checkKind(ResourceType type, JsonObject obj) {
    String kind = obj.getString("kind");
    String apiVersion = obj.getString("apiVersion");
    if (kind != null && !kind.isEmpty() && !kind.equals(type.kind())) {
      throw ApiError.badRequest("the object provided is unrecognized (must be of type " + type.kind() + "): kind "
          + kind + " does not match the resource");
    }
    boolean sameGroup = type.isCustom() && apiVersion != null && apiVersion.startsWith(type.group() + "/");
    if (apiVersion != null && !apiVersion.isEmpty() && !apiVersion.equals(type.apiVersion()) && !sameGroup) {
      throw ApiError.badRequest("the API version in the data (" + apiVersion + ") does not match the expected API "
          + "version (" + type.apiVersion() + ")");
    }
  }

  /** ?fieldValidation: unknown fields fail the request (Strict) or are dropped (Warn adds a warning). */
  private static JsonObject checkFields(ApiRequest r, JsonObject obj) {
    FieldValidation.Mode mode = FieldValidation.mode(r.param("fieldValidation"));
    // As kube-apiserver: without the parameter, unknown fields are dropped with a warning (Warn); they are
    // never stored (custom resources are pruned to their schema, as the apiextensions server does).
    if (mode == null) mode = FieldValidation.Mode.Warn;
    r.warnings().addAll(FieldValidation.apply(r.type(), obj, mode));
    return obj;
  }

  /** Built-in validation, a custom object's schema and its CEL rules ({@code old}: what an update replaces, or null). */
  private void validate(ResourceType type, JsonObject obj, JsonObject old) {
    List<ApiError.Cause> causes = new java.util.ArrayList<>(Validation.validate(type, obj));
    if (type.isCustom() && type.schema() != null) {
      io.kvx.api.CelRules.validate(type.schema(), obj, old, "", causes);
      JsonObject body = obj.copy();
      body.remove("apiVersion");
      body.remove("kind");
      body.remove("metadata");
      JsonObject schema = type.schema().copy();
      JsonObject props = schema.getJsonObject("properties");
      if (props != null) {
        props = props.copy();
        props.remove("metadata");
        props.remove("apiVersion");
        props.remove("kind");
        schema.put("properties", props);
      }
      SchemaValidator.validate(schema, body, "", causes);
    }
    if (type.kind().equals("CustomResourceDefinition")) causes.addAll(CustomResources.validate(obj));
    if (!causes.isEmpty()) throw ApiError.invalid(type.group(), type.kind(), Meta.name(obj), causes);
  }

  private static boolean isCrd(ResourceType type) {
    return type.kind().equals("CustomResourceDefinition");
  }

  /** Whether {@link #present} may change what the store holds for this type (a watch converts each event). */
  public static boolean presents(ResourceType type) {
    return type.isCustom() || Conversions.of(type) != null;
  }

  /**
   * A custom resource read through one of its versions says that version (conversion strategy None);
   * a built-in version served as a view of another stored form is converted to it ({@link Conversions}).
   */
  public JsonObject present(ResourceType type, JsonObject obj) {
    Conversions.Conversion c = Conversions.of(type);
    if (c != null) return c.present(obj);
    // A copy: the object may be the watch cache's own, shared with every reader. Defaults added to the schema since
    // the object was stored are filled in, as the apiextensions server defaults what it reads.
    boolean defaults = Defaults.hasCustomDefaults(type);
    if (type.isCustom() && obj != null && (defaults || !type.apiVersion().equals(obj.getString("apiVersion")))) {
      JsonObject out = obj.copy();
      if (defaults) Defaults.customDefaults(type, out);
      return out.put("apiVersion", type.apiVersion());
    }
    return obj;
  }

  private Future<JsonObject> update(ApiRequest r) {
    checkKind(r.type(), r.body());
    fieldManager(r, "UpdateOptions");
    // The managedFields as sent ([] and [{}] reset them), not as normalize would render them.
    Object requestedManaged = Meta.meta(r.body()).getValue("managedFields");
    JsonObject sent = r.body().copy();
    Meta.meta(sent).remove("managedFields");
    JsonObject body = Json.normalize(r.type(), sent);
    checkNameMatchesUrl(r, Meta.name(body));
    long expected = Meta.resourceVersion(body);
    return mutate(r, expected, old -> {
      JsonObject next = body.copy();
      if (requestedManaged != null) Meta.meta(next).put("managedFields", requestedManaged);
      return next;
    });
  }

  private Future<JsonObject> patch(ApiRequest r) {
    boolean apply = r.isApply();
    fieldManager(r, "PatchOptions");
    if (apply && Meta.meta(r.body()).getValue("managedFields") != null) {
      throw ApiError.badRequest("metadata.managedFields must be nil");
    }
    if (apply && (r.body().getString("apiVersion", "").isEmpty() || r.body().getString("kind", "").isEmpty())) {
      // The applied configuration names its type, as kube's field manager requires.
      throw ApiError.badRequest("an apply patch must set apiVersion and kind (got apiVersion \""
          + r.body().getString("apiVersion", "") + "\", kind \"" + r.body().getString("kind", "") + "\")");
    }
    if (apply && r.subresource() == null) {
      // The applied configuration names the object of the URL, in its namespace (kube's 400s).
      checkNameMatchesUrl(r, Meta.name(r.body()));
      checkNamespaceMatchesUrl(r, Meta.namespace(r.body()));
    }
    Future<JsonObject> patched = mutatePatch(r);
    if (!apply || r.subresource() != null) return patched;
    // Server-side apply creates what does not exist yet.
    return patched.recover(e -> {
      if (!ApiError.is(e, ApiError.Reason.NotFound)) return Future.failedFuture(e);
      JsonObject body = r.body().copy();
      checkNameMatchesUrl(r, Meta.name(body));
      Meta.meta(body).put("name", r.name());
      return create(new ApiRequest("create", r.type(), r.namespace(), null, null, body, r.patchType(), r.query(),
          r.warnings(), r.userAgent()).withUser(r.user())).onSuccess(created -> r.created().set(true));
    });
  }

  private Future<JsonObject> mutatePatch(ApiRequest r) {
    return mutate(r, 0, old -> {
      String type = r.patchType() == null ? "" : r.patchType();
      JsonObject patched;
      if (type.startsWith("application/json-patch+json") || type.startsWith("application/merge-patch+json")
          || type.startsWith("application/strategic-merge-patch+json")) {
        patched = Patches.apply(type, r.type(), old, r.body());
        // As kube's patcher: a patch may not rename the object, nor give it another uid.
        checkNameMatchesUrl(r, Meta.name(patched));
        String patchedUid = Meta.uid(patched);
        if (patchedUid != null && Meta.uid(old) != null && !patchedUid.equals(Meta.uid(old))) {
          throw ApiError.conflict(r.type().group(), r.type().plural(), r.name(), "Precondition failed: UID in "
              + "precondition: " + patchedUid + ", UID in object meta: " + Meta.uid(old));
        }
      } else if (r.isApply()) {
        checkKind(r.type(), r.body());
        patched = ManagedFields.merge(owner(r), old, r.body());
      } else {
        throw new ApiError(ApiError.Reason.UnsupportedMediaType, "the body of the request was in an unknown "
            + "format - accepted media types include: application/json-patch+json, application/merge-patch+json, "
            + "application/apply-patch+yaml, application/strategic-merge-patch+json");
      }
      // A patch that names a resourceVersion is a precondition on it.
      long rv = Meta.resourceVersion(patched);
      if (rv != 0 && rv != Meta.resourceVersion(old)) {
        throw ApiError.conflict(r.type().group(), r.type().plural(), r.name(),
            "the object has been modified; please apply your changes to the latest version and try again");
      }
      return patched;
    });
  }

  /**
   * Read-modify-write: applies {@code change} to the stored object, keeps what the client may not
   * change (status on the main resource, everything but status on /status), validates and writes
   * with the read revision, retrying on conflict when the client gave no revision.
   */
  private Future<JsonObject> mutate(ApiRequest r, long expected, Function<JsonObject, JsonObject> change) {
    String key = key(r, r.name());
    return retryConflicts(expected == 0, () -> store.get(key).compose(old -> {
      JsonObject changed = change.apply(old.copy());
      // managedFields are rebuilt below: kept out of normalize, whose cost grows with the object.
      Object requestedManaged = Meta.meta(changed).remove("managedFields");
      JsonObject next = Json.normalize(r.type(), checkFields(r, changed));
      JsonObject merged = mergeForSubresource(r, old, next);
      Meta.meta(merged).put("resourceVersion", Meta.meta(old).getString("resourceVersion"));
      Defaults.apply(r.type(), merged);
      validate(r.type(), merged, old);
      checkImmutable(r.type(), old, merged);
      checkNoNewFinalizers(r, old, merged);
      ManagedFields.Context owner = owner(r);
      if (r.isApply()) {
        setManaged(merged, ManagedFields.apply(owner, old, merged, r.body(), force(r)));
        ManagedFields.syncLastApplied(owner, old, merged, r.body());
      } else {
        setManaged(merged, ManagedFields.update(owner, old, merged,
            ManagedFields.fromRequest(requestedManaged, old, r.subresource())));
      }
      if (isCrd(r.type()) && !"status".equals(r.subresource())) {
        merged.put("status", CustomResources.status(merged, Meta.now()));
      }
      if (isDaemonSet(r.type())) Defaults.daemonSetTemplateGeneration(old, merged);
      if (isAdmissionPolicy(r.type()) && !"status".equals(r.subresource())) {
        // kube's policy controller type-checks each generation; kvx checks on write and reports it at once.
        merged.put("status", io.kvx.api.AdmissionConfigs.policyStatus(StoreKeys.nextGeneration(key, old, merged)));
      }
      return admitConfigured(r, "UPDATE", merged, old).compose(v -> admitPodSecurity(r, merged, old))
          .compose(v -> write(r, key, expected, old, merged));
    }));
  }

  /**
   * The admission the cluster configured for a request (none unless configured): the mutating webhooks, whose changes
   * are made to {@code obj} in place (an object of the request's type is pruned of unknown fields, normalized, checked
   * to stay in its namespace and validated again); then the ValidatingAdmissionPolicies and the validating webhooks, in
   * kube-apiserver's order. {@code obj} is null on a delete; on a subresource with its own kind (Scale, Eviction,
   * Binding, TokenRequest, the CONNECT options) it is that object.
   */
  private Future<Void> admitConfigured(ApiRequest r, String operation, JsonObject obj, JsonObject old) {
    if (r.user() == ADMITTED) return Future.succeededFuture();
    if (webhooks == null || policies == null || webhooks.isEmpty() && policies.isEmpty()) return Future.succeededFuture();
    JsonObject given = new JsonObject();
    if (r.param("fieldManager") != null) given.put("fieldManager", r.param("fieldManager"));
    if (r.param("fieldValidation") != null) given.put("fieldValidation", r.param("fieldValidation"));
    if (r.dryRun()) given.put("dryRun", new JsonArray().add("All"));
    if (operation.equals("DELETE") && r.body() != null) given = r.body().copy();
    JsonObject user = r.user() != null ? Reviews.userInfo(r.user())
        : new JsonObject().put("username", "system:kvx:" + String.valueOf(r.userAgent()).split("/")[0])
            .put("groups", new JsonArray().add(io.kvx.rbac.UserInfo.MASTERS).add(io.kvx.rbac.UserInfo.AUTHENTICATED));
    boolean ofType = AdmissionRules.subresourceKind(r.subresource()) == null;
    String name = r.verb().equals("deletecollection") ? "" : obj != null && ofType ? Meta.name(obj) : r.name();
    AdmissionRules.Attributes a = new AdmissionRules.Attributes(operation, r.type(), r.subresource(),
        r.type().namespaced() ? r.namespace() : null, name, obj, old, user, r.dryRun(),
        AdmissionRules.options(operation, given));
    return webhooks.mutate(a, r.warnings()).compose(next -> {
      if (obj != null && next != obj && !next.equals(obj)) {
        JsonObject patched = next;
        if (ofType) {
          if (r.type().namespaced() && !java.util.Objects.equals(Meta.namespace(next), Meta.namespace(obj))) {
            throw ApiError.badRequest("the namespace of the provided object does not match the namespace sent on the "
                + "request");
          }
          Object managed = Meta.meta(next).remove("managedFields");
          FieldValidation.unknown(r.type(), next, true);
          patched = Json.normalize(r.type(), next);
          Defaults.withoutAdmission(r.type(), patched);
          if (managed != null) Meta.meta(patched).put("managedFields", managed);
          validate(r.type(), patched, old);
        }
        obj.getMap().clear();
        obj.getMap().putAll(patched.getMap());
      }
      AdmissionRules.Attributes admitted = a.withObject(ofType ? validatedForm(operation, obj) : obj);
      return policies.validate(admitted, resources, r.warnings())
          .compose(v -> webhooks.validate(admitted, r.warnings()));
    });
  }

  /**
   * Pod Security Admission ({@link io.kvx.api.PodSecurity}) as kube-apiserver's built-in plugin: a pod (or its
   * ephemeral containers) that violates its namespace's enforce level is refused with 403, one that violates the warn
   * level warned about, and so is a workload whose pod template would; a namespace's pod-security labels are
   * validated, and a new enforce level is checked against the pods already there (warnings).
   */
  private Future<Void> admitPodSecurity(ApiRequest r, JsonObject obj, JsonObject old) {
    if (r.user() == ADMITTED || r.type().isCustom()) return Future.succeededFuture();
    if (r.type() == Resources.NAMESPACES) return admitNamespaceSecurity(r, obj, old);
    boolean pod = r.type() == Resources.PODS
        && (r.subresource() == null || r.subresource().equals("ephemeralcontainers"));
    JsonObject[] template = pod ? new JsonObject[] {Meta.meta(obj), obj.getJsonObject("spec")}
        : r.subresource() == null ? io.kvx.api.PodSecurity.template(r.type(), obj) : null;
    if (template == null || r.namespace() == null) return Future.succeededFuture();
    // Ephemeral containers are always checked; other pod updates only when they change what kube re-checks.
    if (pod && old != null && r.subresource() == null && !io.kvx.api.PodSecurity.significantUpdate(old, obj)) {
      return Future.succeededFuture();
    }
    return store.getCached(Resources.NAMESPACES.key(null, r.namespace())).map(Meta::labels)
        .otherwise(e -> Map.of()).compose(labels -> {
          io.kvx.api.PodSecurity.Level enforce = io.kvx.api.PodSecurity.level(labels, "enforce");
          io.kvx.api.PodSecurity.Level warn = io.kvx.api.PodSecurity.level(labels, "warn");
          if (pod) {
            var violations = io.kvx.api.PodSecurity.check(enforce, template[0], template[1]);
            if (!violations.isEmpty()) {
              return Future.failedFuture(new ApiError(ApiError.Reason.Forbidden, "pods \"" + Meta.name(obj)
                  + "\" is forbidden: " + io.kvx.api.PodSecurity.message(enforce, violations, false)));
            }
          }
          if (!warn.equals(enforce) || !pod) {
            var violations = io.kvx.api.PodSecurity.check(warn, template[0], template[1]);
            if (!violations.isEmpty()) r.warnings().add(io.kvx.api.PodSecurity.message(warn, violations, true));
          }
          return Future.succeededFuture();
        });
  }

  /** A namespace's pod-security labels: valid values; a new enforce level checked against its pods (warnings). */
  private Future<Void> admitNamespaceSecurity(ApiRequest r, JsonObject ns, JsonObject old) {
    if (r.subresource() != null) return Future.succeededFuture();
    Map<String, String> labels = Meta.labels(ns);
    List<ApiError.Cause> causes = new java.util.ArrayList<>();
    io.kvx.api.PodSecurity.validateLabels(labels, causes);
    if (!causes.isEmpty()) return Future.failedFuture(ApiError.invalid("", "Namespace", Meta.name(ns), causes));
    io.kvx.api.PodSecurity.Level enforce = io.kvx.api.PodSecurity.level(labels, "enforce");
    if (old == null || enforce.privileged() || enforce.equals(io.kvx.api.PodSecurity.level(Meta.labels(old), "enforce"))) {
      return Future.succeededFuture();
    }
    String name = Meta.name(ns);
    return store.listCached(Resources.PODS.storePrefix() + name + "/", o -> true).map(pods -> {
      r.warnings().addAll(io.kvx.api.PodSecurity.existingPodWarnings(name, enforce, pods.items()));
      return null;
    });
  }

  /**
   * The object validating admission sees on a create: as it will be stored, with its uid (given to {@code obj} itself,
   * which the store keeps), creation time and generation, as kube-apiserver fills them in before validating admission.
   */
  private static JsonObject validatedForm(String operation, JsonObject obj) {
    if (!operation.equals("CREATE") || obj == null || !obj.containsKey("metadata")) return obj;
    JsonObject meta = Meta.meta(obj);
    if (meta.getString("uid") == null) meta.put("uid", java.util.UUID.randomUUID().toString());
    JsonObject seen = obj.copy();
    JsonObject seenMeta = Meta.meta(seen);
    if (seenMeta.getString("creationTimestamp") == null) seenMeta.put("creationTimestamp", Meta.now());
    if (seenMeta.getValue("generation") == null) seenMeta.put("generation", 1);
    return seen;
  }

  /** CONNECT admission of pods/exec, pods/attach or pods/portforward, with the options the client asked for. */
  public Future<Void> admitConnect(String namespace, String name, String subresource, JsonObject options,
                                   io.kvx.rbac.UserInfo user) {
    ApiRequest r = new ApiRequest("connect", Resources.PODS, namespace, name, subresource, options, null, java.util.Map.of())
        .withUser(user);
    return admitConfigured(r, "CONNECT", options, null);
  }

  /** The end of an update: a dry run's answer, the delete that removing the last finalizer means, or the write. */
  private Future<JsonObject> write(ApiRequest r, String key, long expected, JsonObject old, JsonObject merged) {
    if (r.dryRun()) {
      // As the store would write it: the generation moves with the spec.
      if (StoreKeys.tracksGeneration(key)) Meta.meta(merged).put("generation", StoreKeys.nextGeneration(key, old, merged));
      return Future.succeededFuture(merged);
    }
    if (finalizersDone(old, merged)) {
      return store.delete(key, Meta.resourceVersion(old), null).compose(gone -> isService(r.type())
          ? allocator.releaseAll(gone).map(gone) : Future.succeededFuture(gone));
    }
    // A write that changes nothing is not written (no new resourceVersion, no watch event), as in kube.
    if (merged.equals(old) && (expected == 0 || expected == Meta.resourceVersion(old))) {
      return Future.succeededFuture(old);
    }
    long rv = expected != 0 ? expected : Meta.resourceVersion(old);
    if (isService(r.type()) && !"status".equals(r.subresource())) {
      return allocator.reallocate(old, merged).compose(svc -> store.update(key, svc, rv))
          .compose(saved -> allocator.releaseDropped(old, saved).map(saved));
    }
    return store.update(key, merged, rv);
  }

  /**
   * Runs a read-then-write. When the client named no resourceVersion, a conflict only means someone
   * else wrote in between (the write used the revision just read), so it is read and tried again.
   */
  private <T> Future<T> retryConflicts(boolean retry, Supplier<Future<T>> attempt) {
    return retryConflicts(retry ? MAX_CONFLICT_RETRIES : 0, attempt);
  }

  private <T> Future<T> retryConflicts(int left, Supplier<Future<T>> attempt) {
    return attempt.get().recover(e -> {
      // A field-manager conflict (causes listed) is an answer, not a race: no retry.
      if (left <= 0 || !ApiError.is(e, ApiError.Reason.Conflict) || !((ApiError) e).causes().isEmpty()) {
        return Future.failedFuture(e);
      }
      // Back off (5, 10, 20, 40, 80 ms, jittered): a controller writing the same object in a burst (a new
      // Deployment's status) would otherwise win every immediate retry and a client's patch would see a 409.
      io.vertx.core.Context context = io.vertx.core.Vertx.currentContext();
      if (context == null) return retryConflicts(left - 1, attempt);
      long delay = (5L << (MAX_CONFLICT_RETRIES - left)) + random.nextInt(5);
      return context.owner().timer(delay).compose(v -> retryConflicts(left - 1, attempt));
    });
  }

  private JsonObject mergeForSubresource(ApiRequest r, JsonObject old, JsonObject next) {
    JsonObject merged;
    if ("status".equals(r.subresource())) {
      merged = old.copy();
      if (next.containsKey("status")) merged.put("status", next.getValue("status"));
    } else if ("approval".equals(r.subresource())) {
      // certificatesigningrequests/approval: only the conditions (Approved, Denied) come from the request.
      merged = old.copy();
      JsonObject status = merged.getJsonObject("status", new JsonObject());
      carry(next.getJsonObject("status", new JsonObject()), status, "conditions");
      merged.put("status", status);
    } else if ("ephemeralcontainers".equals(r.subresource())) {
      // Only spec.ephemeralContainers comes from the request (kubectl debug patches it here).
      merged = old.copy();
      carry(next.getJsonObject("spec", new JsonObject()), merged.getJsonObject("spec"), "ephemeralContainers");
    } else {
      merged = next;
      if (r.type().subresources().contains("status")) carry(old, merged, "status");
      JsonObject meta = Meta.meta(merged);
      JsonObject oldMeta = Meta.meta(old);
      meta.put("name", oldMeta.getString("name"));
      if (r.type().namespaced()) meta.put("namespace", oldMeta.getString("namespace"));
      for (String f : List.of("uid", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds")) {
        carry(oldMeta, meta, f);
      }
      if (r.type() == Resources.PODS) {
        // As kube: a pod's ephemeral containers change only through pods/ephemeralcontainers.
        carry(old.getJsonObject("spec", new JsonObject()), merged.getJsonObject("spec", new JsonObject()),
            "ephemeralContainers");
      }
    }
    return merged;
  }

  /** {@code to} gets {@code from}'s field, or loses its own when {@code from} has none (or null). */
  private static void carry(JsonObject from, JsonObject to, String field) {
    Object value = from.getValue(field);
    if (value != null) to.put(field, value);
    else to.remove(field);
  }

  private void checkImmutable(ResourceType type, JsonObject old, JsonObject next) {
    if (type == Resources.NODES) {
      checkNodePodCidrs(old, next);
      return;
    }
    if (!type.isCustom()) {
      List<ApiError.Cause> causes = Validation.immutable(type, old, next);
      if (!causes.isEmpty()) {
        // An object stored before a default was added would differ only by that default: compare it defaulted.
        JsonObject defaulted = old.copy();
        Defaults.apply(type, defaulted);
        causes = Validation.immutable(type, defaulted, next);
      }
      if (!causes.isEmpty()) throw ApiError.invalid(type.group(), type.kind(), Meta.name(old), causes);
    }
    if (type != Resources.PODS) return;
    checkEphemeralContainers(old, next);
    String oldNode = old.getJsonObject("spec", new JsonObject()).getString("nodeName");
    String newNode = next.getJsonObject("spec", new JsonObject()).getString("nodeName");
    JsonObject oldSpec = old.getJsonObject("spec", new JsonObject()).copy();
    JsonObject newSpec = next.getJsonObject("spec", new JsonObject()).copy();
    // Only image changes (and tolerations additions, activeDeadlineSeconds) are allowed on a pod's spec.
    for (JsonObject s : List.of(oldSpec, newSpec)) {
      for (String list : List.of("containers", "initContainers")) {
        JsonArray cs = s.getJsonArray(list);
        if (cs != null) cs.forEach(c -> ((JsonObject) c).remove("image"));
      }
      s.remove("activeDeadlineSeconds");
      s.remove("tolerations");
      s.remove("ephemeralContainers");
      // The account as admission settles it: a pod stored before kvx defaulted it ran as "default" all along.
      String account = s.getString("serviceAccountName", "");
      if (account.isEmpty() && s.getValue("serviceAccount") instanceof String alias) account = alias;
      s.put("serviceAccountName", account.isEmpty() ? "default" : account);
      s.remove("serviceAccount");
    }
    if (!Objects.equals(oldNode, newNode) && oldNode != null) {
      throw ApiError.invalid("", "Pod", Meta.name(old), List.of(new ApiError.Cause("spec.nodeName",
          "FieldValueForbidden", POD_UPDATE_FORBIDDEN)));
    }
    oldSpec.remove("nodeName");
    newSpec.remove("nodeName");
    if (!oldSpec.equals(newSpec)) {
      throw ApiError.invalid("", "Pod", Meta.name(old), List.of(new ApiError.Cause("spec", "FieldValueForbidden",
          POD_UPDATE_FORBIDDEN)));
    }
  }

  /** Ephemeral containers are added, never changed or removed (kube's words for each). */
  private static void checkEphemeralContainers(JsonObject old, JsonObject next) {
    JsonArray before = old.getJsonObject("spec", new JsonObject()).getJsonArray("ephemeralContainers", new JsonArray());
    JsonArray after = next.getJsonObject("spec", new JsonObject()).getJsonArray("ephemeralContainers", new JsonArray());
    java.util.Map<String, Object> now = new java.util.HashMap<>();
    for (Object o : after) {
      if (o instanceof JsonObject c) now.put(c.getString("name"), c);
    }
    List<ApiError.Cause> causes = new java.util.ArrayList<>();
    for (Object o : before) {
      if (!(o instanceof JsonObject c)) continue;
      Object same = now.get(c.getString("name"));
      if (same == null) {
        causes.add(new ApiError.Cause("spec.ephemeralContainers", "FieldValueForbidden", "Forbidden: existing "
            + "ephemeral containers \"" + c.getString("name") + "\" may not be removed"));
      } else if (!same.equals(c)) {
        causes.add(new ApiError.Cause("spec.ephemeralContainers", "FieldValueForbidden", "Forbidden: existing "
            + "ephemeral containers \"" + c.getString("name") + "\" may not be changed"));
      }
    }
    if (!causes.isEmpty()) throw ApiError.invalid("", "Pod", Meta.name(old), causes);
  }

  /** As Kubernetes: a node's podCIDRs may go from unset to set, never change after that. */
  private static void checkNodePodCidrs(JsonObject old, JsonObject next) {
    JsonObject oldSpec = old.getJsonObject("spec", new JsonObject());
    JsonObject newSpec = next.getJsonObject("spec", new JsonObject());
    JsonArray before = oldSpec.getJsonArray("podCIDRs", new JsonArray());
    if (before.isEmpty() && oldSpec.getString("podCIDR") != null) before = new JsonArray().add(oldSpec.getString("podCIDR"));
    JsonArray after = newSpec.getJsonArray("podCIDRs", new JsonArray());
    if (after.isEmpty() && newSpec.getString("podCIDR") != null) after = new JsonArray().add(newSpec.getString("podCIDR"));
    if (!before.isEmpty() && !before.equals(after)) {
      throw ApiError.invalid("", "Node", Meta.name(old), List.of(new ApiError.Cause("spec.podCIDRs",
          "FieldValueForbidden", "Forbidden: node updates may not change podCIDR except from \"\" to valid")));
    }
  }

  /** As kube's object meta validation: an object being deleted takes no new finalizers (422). */
  private static void checkNoNewFinalizers(ApiRequest r, JsonObject old, JsonObject next) {
    if (!Meta.meta(old).containsKey("deletionTimestamp")) return;
    JsonArray before = Meta.meta(old).getJsonArray("finalizers", new JsonArray());
    List<String> added = Meta.meta(next).getJsonArray("finalizers", new JsonArray()).stream().map(String::valueOf)
        .filter(f -> !before.contains(f)).distinct().sorted().toList();
    if (added.isEmpty()) return;
    String found = added.stream().map(f -> "\"" + f + "\"").collect(java.util.stream.Collectors.joining(", ", "[]string{", "}"));
    throw ApiError.invalid(r.type().group(), r.type().kind(), r.name(), List.of(new ApiError.Cause("metadata.finalizers",
        "FieldValueForbidden", "Forbidden: no new finalizers can be added if the object is being deleted, found new "
        + "finalizers " + found)));
  }

  /**
   * An object being deleted goes away when its last finalizer is removed, unless its deletion is still in its
   * grace period (a pod whose node is stopping it): as kube-apiserver, an update then is only an update, so the
   * node's status reports while the containers stop, and its last one, are written; the node deletes the pod.
   */
  private static boolean finalizersDone(JsonObject old, JsonObject next) {
    JsonObject meta = Meta.meta(next);
    boolean specFinalizers = "Namespace".equals(next.getString("kind"))
        && !next.getJsonObject("spec", new JsonObject()).getJsonArray("finalizers", new JsonArray()).isEmpty();
    JsonObject oldMeta = Meta.meta(old);
    return oldMeta.containsKey("deletionTimestamp") && oldMeta.getLong("deletionGracePeriodSeconds", 0L) == 0
        && !specFinalizers && meta.getJsonArray("finalizers", new JsonArray()).isEmpty();
  }

  /**
   * Write options Kubernetes validates before anything else: dryRun may only be "All" (a 422 on the verb's
   * Options kind, as kube-apiserver answers), and a DeleteOptions body's numbers must be numbers.
   */
  private static void checkOptions(ApiRequest r) {
    String dryRun = r.query().get("dryRun");
    String options = switch (r.verb()) {
      case "create" -> "CreateOptions";
      case "update" -> "UpdateOptions";
      case "patch" -> "PatchOptions";
      case "delete", "deletecollection" -> "DeleteOptions";
      default -> null;
    };
    if (options != null && dryRun != null && !dryRun.isEmpty() && !dryRun.equals("All")) {
      throw ApiError.invalid("meta.k8s.io", options, "", List.of(new ApiError.Cause("dryRun", "FieldValueNotSupported",
          "Unsupported value: [\"" + dryRun + "\"]: supported values: \"All\"")));
    }
    JsonObject deleteOptions = r.deleteOptions();
    if (deleteOptions != null && deleteOptions.getValue("dryRun") != null) {
      Object values = deleteOptions.getValue("dryRun");
      if (!(values instanceof JsonArray a) || a.stream().anyMatch(v -> !"All".equals(v))) {
        throw ApiError.invalid("meta.k8s.io", "DeleteOptions", "", List.of(new ApiError.Cause("dryRun",
            "FieldValueNotSupported", "Unsupported value: " + values + ": supported values: \"All\"")));
      }
    }
    if (options != null && options.equals("DeleteOptions") && r.body() != null) {
      Object grace = r.body().getValue("gracePeriodSeconds");
      if (grace != null && !(grace instanceof Number)) {
        throw ApiError.badRequest("DeleteOptions in version \"v1\" cannot be handled as a DeleteOptions: "
            + "gracePeriodSeconds: expected an integer, got \"" + grace + "\"");
      }
    }
  }

  /**
   * Delete: objects with finalizers, and pods on a node, are marked (deletionTimestamp) and go away
   * later; everything else goes now. The reply is the object, as Kubernetes returns it.
   */
  private Future<JsonObject> delete(ApiRequest r) {
    JsonObject opts = r.body() == null ? new JsonObject() : r.body();
    JsonObject pre = opts.getJsonObject("preconditions", new JsonObject());
    long preRv = Meta.parseVersion(pre.getString("resourceVersion"));
    String preUid = pre.getString("uid");
    Long grace = opts.getLong("gracePeriodSeconds");
    if (r.param("gracePeriodSeconds") != null) grace = (long) parseInt(r.param("gracePeriodSeconds"), "gracePeriodSeconds");
    Long graceRequested = grace;
    String key = key(r, r.name());
    // A copy: the store's get hands out the watch cache's own object, which readers and watchers share.
    return retryConflicts(preRv == 0, () -> store.get(key).map(JsonObject::copy)
        .compose(found -> admitConfigured(r, "DELETE", null, found).map(found)).compose(old -> {
      if (preUid != null && !preUid.equals(Meta.uid(old))) {
        throw ApiError.conflict(r.type().group(), r.type().plural(), r.name(), "Precondition failed: UID in "
            + "precondition: " + preUid + ", UID in object meta: " + Meta.uid(old));
      }
      if (preRv != 0 && preRv != Meta.resourceVersion(old)) {
        throw ApiError.conflict(r.type().group(), r.type().plural(), r.name(), "Precondition failed: "
            + "ResourceVersion in precondition: " + preRv + ", ResourceVersion in object meta: "
            + Meta.resourceVersion(old));
      }
      JsonObject meta = Meta.meta(old);
      String propagation = propagation(r, opts);
      if (propagation != null && (Resources.COLLECTED.contains(r.type()) || r.type().isCustom())
          && !meta.containsKey("deletionTimestamp")) {
        String finalizer = propagation.equals("Foreground") ? "foregroundDeletion" : "orphan";
        JsonArray fs = meta.getJsonArray("finalizers", new JsonArray());
        if (!fs.contains(finalizer)) fs.add(finalizer);
        meta.put("finalizers", fs);
      }
      boolean hasFinalizers = !meta.getJsonArray("finalizers", new JsonArray()).isEmpty();
      long graceSeconds = graceRequested != null ? graceRequested
          : old.getJsonObject("spec", new JsonObject()).getLong("terminationGracePeriodSeconds", 30L);
      boolean graceful = r.type() == Resources.PODS && graceSeconds > 0
          && old.getJsonObject("spec", new JsonObject()).getString("nodeName") != null
          && !isTerminal(old);
      if (r.type() == Resources.NAMESPACES) {
        old.getJsonObject("status", new JsonObject()).put("phase", "Terminating");
        hasFinalizers = hasFinalizers || !old.getJsonObject("spec", new JsonObject())
            .getJsonArray("finalizers", new JsonArray()).isEmpty();
      }
      if (r.dryRun()) return Future.succeededFuture(old);
      if (hasFinalizers || graceful) {
        if (meta.containsKey("deletionTimestamp")) {
          // Already being deleted: a second delete may only shorten the grace period (the node's own delete
          // with 0 once the containers stopped; with finalizers left, the pod then goes when they are removed).
          Long current = meta.getLong("deletionGracePeriodSeconds");
          if (current == null || (graceful ? graceSeconds : 0) >= current) return Future.succeededFuture(old);
        }
        // As kube's markAsDeleting: a deletion timestamp and a grace period, 0 unless a pod's node is to stop it.
        meta.put("deletionTimestamp", meta.getString("deletionTimestamp", Meta.now()));
        meta.put("deletionGracePeriodSeconds", graceful ? graceSeconds : 0);
        if (isCrd(r.type())) {
          old.put("status", CustomResources.status(old, Meta.now()));
          // Its objects go first: the API servers' definition watch runs cleanUpDefinition.
        }
        return store.update(key, old, Meta.resourceVersion(old));
      }
      Future<JsonObject> deleted = store.delete(key, Meta.resourceVersion(old), preUid);
      if (isCrd(r.type())) deleted = deleted.compose(gone -> deleteCustomObjects(gone).map(gone));
      return isService(r.type()) ? deleted.compose(gone -> allocator.releaseAll(gone).map(gone)) : deleted;
    }));
  }

  /** Foreground or Orphan when asked for (the body, the query, or the old orphanDependents flag); else null. */
  private static String propagation(ApiRequest r, JsonObject opts) {
    String p = r.param("propagationPolicy") != null ? r.param("propagationPolicy") : opts.getString("propagationPolicy");
    Boolean orphan = opts.getBoolean("orphanDependents");
    if (r.param("orphanDependents") != null) orphan = Boolean.parseBoolean(r.param("orphanDependents"));
    if (p != null && orphan != null) {
      throw ApiError.invalid("meta.k8s.io", "DeleteOptions", "", List.of(new ApiError.Cause("propagationPolicy",
          "FieldValueInvalid", "Invalid value: \"" + p + "\": orphanDependents and deletionPropagation cannot be both set")));
    }
    if (p == null && Boolean.TRUE.equals(orphan)) return "Orphan";
    if (p == null || p.equals("Background")) return null;
    if (!p.equals("Foreground") && !p.equals("Orphan")) {
      throw ApiError.invalid("meta.k8s.io", "DeleteOptions", "", List.of(new ApiError.Cause("propagationPolicy",
          "FieldValueNotSupported", "Unsupported value: \"" + p + "\": supported values: \"Foreground\", "
          + "\"Background\", \"Orphan\", \"nil\"")));
    }
    return p;
  }

  /** A deleted definition takes its custom objects with it (every version shares one storage prefix). */
  private Future<Void> deleteCustomObjects(JsonObject crd) {
    JsonObject spec = crd.getJsonObject("spec", new JsonObject());
    String prefix = spec.getString("group") + "/" + spec.getJsonObject("names", new JsonObject()).getString("plural")
        + "/";
    return store.list(prefix, o -> true, 0, null).compose(res -> {
      List<Future<JsonObject>> deletes = new java.util.ArrayList<>();
      for (JsonObject item : res.items()) {
        String ns = Meta.namespace(item);
        deletes.add(store.delete(prefix + (ns == null ? "" : ns) + "/" + Meta.name(item), 0, null)
            .recover(e -> Future.succeededFuture()));
      }
      return Future.join(deletes).mapEmpty();
    });
  }

  private static boolean isTerminal(JsonObject pod) {
    String phase = pod.getJsonObject("status", new JsonObject()).getString("phase", "");
    return phase.equals("Succeeded") || phase.equals("Failed");
  }

  private Future<JsonObject> deleteCollection(ApiRequest r) {
    return list(r).compose(res -> {
      Future<JsonObject> chain = Future.succeededFuture();
      for (JsonObject item : res.items()) {
        // Admission sees each item's delete as the collection's (no name), as kube's.
        ApiRequest one = new ApiRequest("deletecollection", r.type(), r.type().namespaced() ? Meta.namespace(item) : null,
            Meta.name(item), null, r.body(), null, r.query(), r.warnings(), r.userAgent()).withUser(r.user());
        chain = chain.compose(v -> delete(one).recover(e -> ApiError.is(e, ApiError.Reason.NotFound)
            ? Future.succeededFuture() : Future.failedFuture(e)));
      }
      return chain.map(v -> listObject(r, res));
    });
  }

  /** pods/binding: sets spec.nodeName once; a pod already bound is a 409. */
  private Future<JsonObject> bind(ApiRequest r) {
    if (r.type() != Resources.PODS) throw new ApiError(ApiError.Reason.MethodNotAllowed, "binding is only for pods");
    checkNameInBody(r, "Binding");
    return admitConfigured(r, "CREATE", r.body().copy(), null).compose(v -> bindAdmitted(r));
  }

  private Future<JsonObject> bindAdmitted(ApiRequest r) {
    JsonObject target = r.body().getJsonObject("target", new JsonObject());
    String node = target.getString("name");
    if (node == null || node.isEmpty()) {
      throw ApiError.invalid("", "Binding", r.name(), List.of(new ApiError.Cause("target.name",
          "FieldValueRequired", "Required value")));
    }
    String key = key(r, r.name());
    // First from this JVM's cache without the read barrier, as GuaranteedUpdate starts from its cache: the write is
    // conditional on the revision read, so a stale read cannot bind anything; it is refused (409, or the pod not
    // yet here) and read once more through the barrier.
    return bindTo(r, key, node, store.getCached(key), true)
        .recover(e -> e instanceof StaleRead stale ? bindTo(r, key, node, store.get(key), false)
            : Future.failedFuture(e))
        .map(v -> new JsonObject().put("kind", "Status").put("apiVersion", "v1").put("metadata", new JsonObject())
            .put("status", "Success").put("code", 201));
  }

  /** An object's body naming another object than the URL (update, patch, apply): kube's 400. */
  private static void checkNameMatchesUrl(ApiRequest r, String bodyName) {
    if (bodyName != null && !bodyName.equals(r.name())) {
      throw ApiError.badRequest("the name of the object (" + bodyName + ") does not match the name on the URL ("
          + r.name() + ")");
    }
  }

  /** A namespaced object's body naming another namespace than the URL: kube's 400. */
  private static void checkNamespaceMatchesUrl(ApiRequest r, String bodyNamespace) {
    if (r.type().namespaced() && bodyNamespace != null && !bodyNamespace.isEmpty()
        && !bodyNamespace.equals(r.namespace())) {
      throw ApiError.badRequest("the namespace of the provided object does not match the namespace sent on the "
          + "request");
    }
  }

  /** A subresource's body naming another object than the URL: kube's 400. */
  private static void checkNameInBody(ApiRequest r, String kind) {
    String named = r.body() == null ? null : Meta.name(r.body());
    if (named != null && !named.isEmpty() && !named.equals(r.name())) {
      throw ApiError.badRequest("name in URL does not match name in " + kind + " object");
    }
  }

  /** A binding read from the cache that the store refused as out of date (or the pod was not in the cache). */
  private static final class StaleRead extends RuntimeException {
    StaleRead() {
      super(null, null, false, false);
    }
  }

  private Future<JsonObject> bindTo(ApiRequest r, String key, String node, Future<JsonObject> read, boolean cached) {
    Future<JsonObject> found = cached
        ? read.recover(e -> Future.failedFuture(ApiError.is(e, ApiError.Reason.NotFound) ? new StaleRead() : e))
        : read;
    return found.compose(current -> {
      JsonObject currentSpec = current.getJsonObject("spec");
      boolean refused = currentSpec.getString("nodeName") != null || Meta.meta(current).containsKey("deletionTimestamp");
      // A refusal is said from the current pod, not a cached one (the name may belong to a newer pod by now).
      if (refused && cached) throw new StaleRead();
      if (currentSpec.getString("nodeName") != null) {
        throw ApiError.conflict("", "pods/binding", r.name(), "pod " + r.name() + " is already assigned to node \""
            + currentSpec.getString("nodeName") + "\"");
      }
      if (Meta.meta(current).containsKey("deletionTimestamp")) {
        throw ApiError.conflict("", "pods/binding", r.name(), "pod " + r.name() + " is being deleted, cannot be "
            + "assigned to a host");
      }
      // New top level, spec and status over the stored object's other parts: the store's object is shared and
      // read-only, and the store copies what it keeps, so the unchanged parts need no deep copy here.
      JsonObject pod = new JsonObject(new java.util.LinkedHashMap<>(current.getMap()));
      JsonObject spec = new JsonObject(new java.util.LinkedHashMap<>(currentSpec.getMap())).put("nodeName", node);
      pod.put("spec", spec);
      JsonObject oldStatus = current.getJsonObject("status");
      JsonObject status = oldStatus == null ? new JsonObject()
          : new JsonObject(new java.util.LinkedHashMap<>(oldStatus.getMap()));
      JsonArray conditions = status.getJsonArray("conditions", new JsonArray());
      JsonArray kept = new JsonArray();
      conditions.forEach(c -> {
        if (!"PodScheduled".equals(((JsonObject) c).getString("type"))) kept.add(c);
      });
      kept.add(new JsonObject().put("type", "PodScheduled").put("status", "True")
          .put("lastTransitionTime", Meta.now()));
      status.put("conditions", kept);
      pod.put("status", status);
      Future<JsonObject> written = store.update(key, pod, Meta.resourceVersion(current));
      return !cached ? written : written.recover(e -> Future.failedFuture(
          ApiError.is(e, ApiError.Reason.Conflict, ApiError.Reason.NotFound) ? new StaleRead() : e));
    });
  }

  /** The scale subresource: an autoscaling/v1 Scale view of spec.replicas, readable and writable. */
  private Future<JsonObject> scale(ApiRequest r) {
    String key = key(r, r.name());
    return switch (r.verb()) {
      case "get" -> store.get(key).map(o -> scaleOf(r.type(), o));
      case "update", "patch" -> retryConflicts(true, () -> store.get(key).compose(obj -> {
        fieldManager(r, r.verb().equals("update") ? "UpdateOptions" : "PatchOptions");
        JsonObject current = scaleOf(r.type(), obj);
        JsonObject desired;
        if (r.verb().equals("update")) {
          desired = r.body();
        } else {
          desired = Patches.apply(r.patchType(), current, r.body());
        }
        long rv = Meta.parseVersion(Meta.meta(desired).getString("resourceVersion"));
        if (rv != 0 && rv != Meta.resourceVersion(obj)) {
          throw ApiError.conflict(r.type().group(), r.type().plural(), r.name(), "the object has been modified; "
              + "please apply your changes to the latest version and try again");
        }
        Object replicas = desired.getJsonObject("spec", new JsonObject()).getValue("replicas");
        if (!(replicas instanceof Number n) || n.intValue() < 0) {
          throw ApiError.invalid("autoscaling", "Scale", r.name(), List.of(new ApiError.Cause("spec.replicas",
              "FieldValueInvalid", "Invalid value: " + replicas + ": must be greater than or equal to 0")));
        }
        JsonObject next = obj.copy();
        String replicasPath = scalePath(r.type(), "specReplicasPath", ".spec.replicas");
        setPath(next, replicasPath, n.intValue());
        // Admission sees the Scale, as kube's (a mutating webhook may change its replicas).
        JsonObject scale = scaleOf(r.type(), next);
        return admitConfigured(r, "UPDATE", scale, current).compose(v -> {
          Object admitted = scale.getJsonObject("spec", new JsonObject()).getValue("replicas");
          int count = admitted instanceof Number a && a.intValue() >= 0 ? a.intValue() : n.intValue();
          setPath(next, replicasPath, count);
          ManagedFields.Context owner = owner(r);
          if (r.isApply()) {
            JsonObject config = new JsonObject();
            if (r.body().getJsonObject("spec", new JsonObject()).containsKey("replicas")) {
              setPath(config, replicasPath, count);
            }
            setManaged(next, ManagedFields.apply(owner, obj, next, config, force(r)));
          } else {
            setManaged(next, ManagedFields.update(owner, obj, next, ManagedFields.fromRequest(null, obj, "scale")));
          }
          if (r.dryRun()) return Future.succeededFuture(scaleOf(r.type(), next));
          return store.update(key, next, Meta.resourceVersion(obj)).map(o -> scaleOf(r.type(), o));
        });
      }));
      default -> Future.failedFuture(ApiError.methodNotAllowed());
    };
  }

  /** Where a custom resource keeps its replicas (its CRD's scale subresource), or the built-in path. */
  private static String scalePath(ResourceType type, String which, String builtIn) {
    if (!type.isCustom()) return builtIn;
    JsonObject scale = type.custom().getJsonObject("subresources", new JsonObject()).getJsonObject("scale",
        new JsonObject());
    return scale.getString(which, which.equals("labelSelectorPath") ? null : builtIn);
  }

  private static void setPath(JsonObject obj, String path, Object value) {
    String[] parts = path.replaceFirst("^\\.", "").split("\\.");
    JsonObject cur = obj;
    for (int i = 0; i < parts.length - 1; i++) {
      JsonObject next = cur.getJsonObject(parts[i]);
      if (next == null) {
        next = new JsonObject();
        cur.put(parts[i], next);
      }
      cur = next;
    }
    cur.put(parts[parts.length - 1], value);
  }

  /** The Scale view; for custom resources from the paths their definition names. */
  private JsonObject scaleOf(ResourceType type, JsonObject obj) {
    JsonObject scale = toScale(obj);
    if (type.isCustom()) {
      Object spec = io.kvx.api.JsonPaths.read(obj, scalePath(type, "specReplicasPath", ".spec.replicas"));
      Object status = io.kvx.api.JsonPaths.read(obj, scalePath(type, "statusReplicasPath", ".status.replicas"));
      scale.getJsonObject("spec").put("replicas", spec instanceof Number n ? n.intValue() : 0);
      scale.getJsonObject("status").put("replicas", status instanceof Number n ? n.intValue() : 0);
      String selPath = scalePath(type, "labelSelectorPath", null);
      Object sel = selPath == null ? null : io.kvx.api.JsonPaths.read(obj, selPath);
      if (sel instanceof String str) scale.getJsonObject("status").put("selector", str);
      else scale.getJsonObject("status").remove("selector");
    }
    return scale;
  }

  private JsonObject toScale(JsonObject obj) {
    JsonObject meta = Meta.meta(obj);
    JsonObject spec = obj.getJsonObject("spec", new JsonObject());
    JsonObject status = obj.getJsonObject("status", new JsonObject());
    JsonObject scaleMeta = new JsonObject().put("name", meta.getString("name")).put("uid", meta.getString("uid"))
        .put("resourceVersion", meta.getString("resourceVersion"))
        .put("creationTimestamp", meta.getString("creationTimestamp"));
    if (meta.getString("namespace") != null) scaleMeta.put("namespace", meta.getString("namespace"));
    JsonObject scaleStatus = new JsonObject().put("replicas", status.getInteger("replicas", 0));
    Object selector = spec.getValue("selector");
    if (selector instanceof JsonObject sel) scaleStatus.put("selector", LabelSelector.toText(sel,
        obj.getString("kind", "").equals("ReplicationController")));
    return new JsonObject().put("kind", "Scale").put("apiVersion", "autoscaling/v1").put("metadata", scaleMeta)
        .put("spec", new JsonObject().put("replicas", spec.getInteger("replicas", 0))).put("status", scaleStatus);
  }

  /** pods/eviction: a graceful delete of the pod, as the Eviction API does without a blocking budget. */
  private Future<JsonObject> evict(ApiRequest r) {
    if (r.type() != Resources.PODS) throw new ApiError(ApiError.Reason.MethodNotAllowed, "eviction is only for pods");
    checkNameInBody(r, "Eviction");
    return admitConfigured(r, "CREATE", r.body().copy(), null).compose(v -> evictAdmitted(r));
  }

  private Future<JsonObject> evictAdmitted(ApiRequest r) {
    JsonObject opts = r.deleteOptions() == null ? new JsonObject() : r.deleteOptions();
    // The eviction was admitted: its status patch and delete are not admitted again (kube's eviction writes through
    // the registry).
    ApiRequest del = new ApiRequest("delete", r.type(), r.namespace(), r.name(), null, opts, null, r.query())
        .withUser(ADMITTED);
    // As kube-apiserver: the pod's DisruptionTarget condition first (a dry run changes nothing), then the delete.
    JsonObject disrupted = io.kvx.api.PodDisruption.disruptionTarget("EvictionByEvictionAPI", "Eviction API: evicting",
        Meta.now());
    return retryConflicts(true, () -> store.get(key(r, r.name())).compose(pod -> checkBudget(r, pod)))
        .compose(ok -> r.dryRun() || del.dryRun() ? Future.succeededFuture() : handle(new ApiRequest("patch", r.type(),
            r.namespace(), r.name(), "status", disrupted, "application/strategic-merge-patch+json", java.util.Map.of())
            .withUser(ADMITTED))
            .<Object>map(x -> x).otherwise(e -> null))
        .compose(ok -> delete(del)).map(v -> new JsonObject().put("kind", "Status").put("apiVersion", "v1")
            .put("metadata", new JsonObject()).put("status", "Success").put("code", 201));
  }

  /**
   * The eviction's PodDisruptionBudget check, as kube-apiserver makes it: a pod that is being deleted,
   * has finished or is still Pending goes without one; otherwise the one budget covering it must allow a
   * disruption (429 with the budget's numbers if not), and that disruption is recorded in the budget's
   * status with its resourceVersion, so two evictions at once cannot both take the last one (the loser
   * conflicts and looks again).
   */
  private Future<Void> checkBudget(ApiRequest r, JsonObject pod) {
    String phase = pod.getJsonObject("status", new JsonObject()).getString("phase", "");
    if (Meta.meta(pod).containsKey("deletionTimestamp") || phase.equals("Succeeded") || phase.equals("Failed")
        || phase.equals("Pending")) {
      return Future.succeededFuture();
    }
    String ns = r.namespace();
    Future<List<JsonObject>> budgets = store.list(PDBS.storePrefix() + ns + "/", o -> PodDisruption.covers(o, pod),
        0, null).map(ListResult::items);
    return budgets.compose(pdbs -> {
      if (pdbs.isEmpty()) return Future.succeededFuture();
      if (pdbs.size() > 1) {
        // kube-apiserver's own answer (an internal error) for a pod under two budgets.
        return Future.failedFuture(new ApiError(ApiError.Reason.InternalError, "This pod has more than one "
            + "PodDisruptionBudget, which the eviction subresource does not support."));
      }
      JsonObject pdb = pdbs.get(0);
      return store.list(Resources.PODS.storePrefix() + ns + "/", o -> PodDisruption.covers(pdb, o), 0, null)
          .compose(pods -> {
            java.time.Instant now = java.time.Instant.now();
            PodDisruption.Budget b = PodDisruption.budget(pdb, pods.items(), now);
            if (PodDisruption.unhealthyMayGo(pdb, pod, b)) return Future.succeededFuture();
            if (b.disruptionsAllowed() <= 0) {
              return Future.failedFuture(new ApiError(ApiError.Reason.TooManyRequests,
                  "Cannot evict pod as it would violate the pod's disruption budget.", null, null, null,
                  List.of(new ApiError.Cause(null, "DisruptionBudget", PodDisruption.blockedMessage(Meta.name(pdb), b)))));
            }
            if (r.dryRun()) return Future.succeededFuture();
            JsonObject next = pdb.copy().put("status", PodDisruption.statusAfterEviction(pdb, b, r.name(), now));
            return store.update(PDBS.key(ns, Meta.name(pdb)), next, Meta.resourceVersion(pdb)).mapEmpty();
          });
    });
  }

  /**
   * The request's field manager: ?fieldManager, else the User-Agent's first word (as kube derives it).
   * Apply requires one, and ?force is for apply only; both are 422s on the options kind, as kube says.
   */
  private static String fieldManager(ApiRequest r, String optionsKind) {
    String given = r.param("fieldManager");
    List<ApiError.Cause> causes = new java.util.ArrayList<>();
    if (given != null && !given.isEmpty()) {
      String why = ManagedFields.invalidManager(given);
      if (why != null) causes.add(new ApiError.Cause("fieldManager", why.startsWith("Too long")
          ? "FieldValueTooLong" : "FieldValueInvalid", why));
    } else if (r.isApply()) {
      causes.add(new ApiError.Cause("fieldManager", "FieldValueRequired", "Required value: is required for apply "
          + "patch"));
    }
    if (r.param("force") != null && r.verb().equals("patch") && !r.isApply()) {
      causes.add(new ApiError.Cause("force", "FieldValueForbidden", "Forbidden: may not be specified for non-apply "
          + "patch"));
    }
    if (!causes.isEmpty()) {
      List<String> parts = causes.stream().map(c -> c.field() + ": " + c.message()).toList();
      throw new ApiError(ApiError.Reason.Invalid, optionsKind + ".meta.k8s.io \"\" is invalid: "
          + (parts.size() == 1 ? parts.get(0) : "[" + String.join(", ", parts) + "]"), "meta.k8s.io", optionsKind,
          "", causes);
    }
    return given != null && !given.isEmpty() ? given : ManagedFields.managerFromUserAgent(r.userAgent());
  }

  private static ManagedFields.Context owner(ApiRequest r) {
    return new ManagedFields.Context(r.type(), fieldManager(r, r.verb().equals("update") ? "UpdateOptions"
        : "PatchOptions"), r.subresource(), Meta.now());
  }

  private static boolean force(ApiRequest r) {
    return "true".equals(r.param("force"));
  }

  private static void setManaged(JsonObject obj, JsonArray entries) {
    if (entries.isEmpty()) Meta.meta(obj).remove("managedFields");
    else Meta.meta(obj).put("managedFields", entries);
  }

  private String randomSuffix() {
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < 5; i++) sb.append(ALPHANUMS.charAt(random.nextInt(ALPHANUMS.length())));
    return sb.toString();
  }

  private static int parseInt(String v, String name) {
    try {
      return Integer.parseInt(v);
    } catch (NumberFormatException e) {
      throw ApiError.badRequest("invalid value for " + name + ": \"" + v + "\"");
    }
  }
}
