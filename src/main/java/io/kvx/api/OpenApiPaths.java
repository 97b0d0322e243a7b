package io.kvx.api;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.List;

/**
 * The OpenAPI 3 path items of one resource type: list/create/deletecollection on the collection,
 * get/put/patch/delete on an object, its subresources, and the query parameters kube-apiserver
 * declares for each. Every operation names its group-version-kind and action, which is how kubectl
 * finds the PATCH of a kind and checks that it takes {@code fieldValidation}.
 */
final class OpenApiPaths {

  private static final String STATUS = ModelSchemas.META + "Status";
  private static final String DELETE_OPTIONS = ModelSchemas.META + "DeleteOptions";
  private static final String PATCH = ModelSchemas.META + "Patch";

  private final ResourceType type;
  private final String kindName;
  private final String listName;
  private final String opSuffix;

  OpenApiPaths(ResourceType type, String kindName, String listName) {
    this.type = type;
    this.kindName = kindName;
    this.listName = listName;
    this.opSuffix = groupWord(type.group()) + capitalize(type.version());
  }

  /** {group, version, kind, fabric8 model (relative name) or null} of a subresource's body; null: none. */
  static String[] subresourceKind(ResourceType t, String sub) {
    return switch (sub) {
      case "scale" -> new String[] {"autoscaling", "v1", "Scale", "autoscaling.v1.Scale"};
      case "binding" -> new String[] {"", "v1", "Binding", "Binding"};
      case "eviction" -> new String[] {"policy", "v1", "Eviction", "policy.v1.Eviction"};
      case "token" -> new String[] {"authentication.k8s.io", "v1", "TokenRequest", "authentication.TokenRequest"};
      case "exec" -> new String[] {"", "v1", "PodExecOptions", null};
      case "attach" -> new String[] {"", "v1", "PodAttachOptions", null};
      case "portforward" -> new String[] {"", "v1", "PodPortForwardOptions", null};
      case "proxy" -> new String[] {"", "v1", t.kind() + "ProxyOptions", null};
      default -> new String[] {t.group(), t.version(), t.kind(), null};
    };
  }

  /** A kind whose only verb is create (a review): POST on its collection. */
  void addCreateTo(JsonObject paths) {
    String base = (type.group().isEmpty() ? "/api/" : "/apis/" + type.group() + "/") + type.version();
    String collection = base + (type.namespaced() ? "/namespaces/{namespace}/" : "/") + type.plural();
    JsonObject coll = pathItem(type.namespaced(), false);
    coll.put("post", op("post", "create" + opSuffix + (type.namespaced() ? "Namespaced" : "") + type.kind(),
        gvk(type), writeParams(false)).put("requestBody", body("*/*", kindName))
        .put("responses", replies(kindName, "200", "201", "202")));
    paths.put(collection, coll);
  }

  void addTo(JsonObject paths) {
    String base = (type.group().isEmpty() ? "/api/" : "/apis/" + type.group() + "/") + type.version();
    String collection = base + (type.namespaced() ? "/namespaces/{namespace}/" : "/") + type.plural();
    String item = collection + "/{name}";
    String ns = type.namespaced() ? "Namespaced" : "";
    String kind = type.kind();

    JsonObject coll = pathItem(type.namespaced(), false);
    coll.put("get", op("list", "list" + opSuffix + ns + kind, gvk(type), listParams())
        .put("responses", replies(listName, "200")));
    coll.put("post", op("post", "create" + opSuffix + ns + kind, gvk(type), writeParams(false))
        .put("requestBody", body("*/*", kindName)).put("responses", replies(kindName, "200", "201", "202")));
    coll.put("delete", op("deletecollection", "deletecollection" + opSuffix + ns + kind, gvk(type),
        concat(deleteParams(), listParams())).put("requestBody", body("*/*", DELETE_OPTIONS))
        .put("responses", replies(STATUS, "200")));
    paths.put(collection, coll);

    JsonObject one = pathItem(type.namespaced(), true);
    one.put("get", op("get", "read" + opSuffix + ns + kind, gvk(type), List.of())
        .put("responses", replies(kindName, "200")));
    one.put("put", op("put", "replace" + opSuffix + ns + kind, gvk(type), writeParams(false))
        .put("requestBody", body("*/*", kindName)).put("responses", replies(kindName, "200", "201")));
    one.put("patch", patchOp("patch" + opSuffix + ns + kind, gvk(type), kindName));
    one.put("delete", op("delete", "delete" + opSuffix + ns + kind, gvk(type), deleteParams())
        .put("requestBody", body("*/*", DELETE_OPTIONS)).put("responses", replies(kindName, "200", "202")));
    paths.put(item, one);

    if (type.namespaced()) {
      JsonObject all = new JsonObject().put("parameters", new JsonArray().add(query("pretty", "string")));
      all.put("get", op("list", "list" + opSuffix + kind + "ForAllNamespaces", gvk(type), listParams())
          .put("responses", replies(listName, "200")));
      paths.put(base + "/" + type.plural(), all);
    }
    for (String sub : type.subresources()) subresource(paths, item, ns, sub);
  }

  private void subresource(JsonObject paths, String item, String ns, String sub) {
    String[] k = subresourceKind(type, sub);
    JsonObject gvk = new JsonObject().put("group", k[0]).put("kind", k[2]).put("version", k[1]);
    Class<?> bodyModel = k[3] == null ? null : classOrNull(k[3]);
    String bodyName = k[3] == null ? kindName : bodyModel == null ? null : ModelSchemas.name(bodyModel);
    String word = opSuffix + ns + type.kind() + capitalize(sub);
    JsonObject p = pathItem(type.namespaced(), true);
    switch (sub) {
      case "log" -> p.put("get", op("get", "read" + word, gvk, List.of(query("container", "string"),
          query("follow", "boolean"), query("insecureSkipTLSVerifyBackend", "boolean"), query("limitBytes", "integer"),
          query("previous", "boolean"), query("sinceSeconds", "integer"), query("stream", "string"),
          query("tailLines", "integer"), query("timestamps", "boolean")))
          .put("responses", textReply()));
      case "exec", "attach", "portforward", "proxy" -> {
        List<JsonObject> params = switch (sub) {
          case "exec" -> List.of(query("command", "string"), query("container", "string"), query("stderr", "boolean"),
              query("stdin", "boolean"), query("stdout", "boolean"), query("tty", "boolean"));
          case "attach" -> List.of(query("container", "string"), query("stderr", "boolean"),
              query("stdin", "boolean"), query("stdout", "boolean"), query("tty", "boolean"));
          case "portforward" -> List.of(query("ports", "integer"));
          default -> List.of(query("path", "string"));
        };
        p.put("get", op("connect", "connectGet" + word, gvk, params).put("responses", textReply()));
        p.put("post", op("connect", "connectPost" + word, gvk, params).put("responses", textReply()));
      }
      case "binding", "eviction", "token" -> p.put("post", op("post", "create" + word, gvk, writeParams(false))
          .put("requestBody", body("*/*", bodyName)).put("responses", replies(bodyName, "200", "201", "202")));
      case "finalize" -> p.put("put", op("put", "replace" + word, gvk, writeParams(false))
          .put("requestBody", body("*/*", kindName)).put("responses", replies(kindName, "200", "201")));
      default -> {
        p.put("get", op("get", "read" + word, gvk, List.of()).put("responses", replies(bodyName, "200")));
        p.put("put", op("put", "replace" + word, gvk, writeParams(false))
            .put("requestBody", body("*/*", bodyName)).put("responses", replies(bodyName, "200", "201")));
        p.put("patch", patchOp("patch" + word, gvk, bodyName));
      }
    }
    paths.put(item + "/" + sub, p);
  }

  private JsonObject patchOp(String operationId, JsonObject gvk, String replyName) {
    JsonObject content = new JsonObject();
    for (String t : OpenApi.patchTypes(type)) content.put(t, new JsonObject().put("schema", ModelSchemas.ref(PATCH)));
    return op("patch", operationId, gvk, writeParams(true))
        .put("requestBody", new JsonObject().put("content", content).put("required", true))
        .put("responses", replies(replyName, "200", "201"));
  }

  private static Class<?> classOrNull(String relative) {
    try {
      return Class.forName("io.fabric8.kubernetes.api.model." + relative);
    } catch (ClassNotFoundException e) {
      return null;
    }
  }

  private static JsonObject op(String action, String operationId, JsonObject gvk, List<JsonObject> params) {
    JsonObject op = new JsonObject().put("operationId", operationId);
    if (!params.isEmpty()) op.put("parameters", new JsonArray(List.copyOf(params)));
    // kubectl reads the operation's GVK as a single object (schemas carry a list).
    return op.put("x-kubernetes-action", action).put("x-kubernetes-group-version-kind", gvk);
  }

  private static JsonObject gvk(ResourceType t) {
    return new JsonObject().put("group", t.group()).put("kind", t.kind()).put("version", t.version());
  }

  private static JsonObject pathItem(boolean namespaced, boolean named) {
    JsonArray params = new JsonArray();
    if (named) params.add(path("name"));
    if (namespaced) params.add(path("namespace"));
    params.add(query("pretty", "string"));
    return new JsonObject().put("parameters", params);
  }

  private static JsonObject body(String mediaType, String schemaName) {
    JsonObject schema = schemaName == null ? new JsonObject().put("type", "object") : ModelSchemas.ref(schemaName);
    return new JsonObject().put("content", new JsonObject().put(mediaType, new JsonObject().put("schema", schema)))
        .put("required", true);
  }

  private static JsonObject replies(String schemaName, String... codes) {
    JsonObject schema = schemaName == null ? new JsonObject().put("type", "object") : ModelSchemas.ref(schemaName);
    JsonObject content = new JsonObject();
    for (String t : OpenApi.replyTypes()) content.put(t, new JsonObject().put("schema", schema));
    JsonObject out = new JsonObject();
    for (String code : codes) {
      out.put(code, new JsonObject().put("description", switch (code) {
        case "201" -> "Created";
        case "202" -> "Accepted";
        default -> "OK";
      }).put("content", content.copy()));
    }
    return out.put("401", new JsonObject().put("description", "Unauthorized"));
  }

  private static JsonObject textReply() {
    return new JsonObject().put("200", new JsonObject().put("description", "OK").put("content", new JsonObject()
        .put("*/*", new JsonObject().put("schema", new JsonObject().put("type", "string")))))
        .put("401", new JsonObject().put("description", "Unauthorized"));
  }

  private static List<JsonObject> listParams() {
    return List.of(query("allowWatchBookmarks", "boolean"), query("continue", "string"),
        query("fieldSelector", "string"), query("labelSelector", "string"), query("limit", "integer"),
        query("resourceVersion", "string"), query("resourceVersionMatch", "string"),
        query("sendInitialEvents", "boolean"), query("timeoutSeconds", "integer"), query("watch", "boolean"));
  }

  /** dryRun, fieldManager and fieldValidation on writes; force on patches (server-side apply). */
  private static List<JsonObject> writeParams(boolean patch) {
    List<JsonObject> params = new java.util.ArrayList<>(List.of(query("dryRun", "string"),
        query("fieldManager", "string"), query("fieldValidation", "string")));
    if (patch) params.add(query("force", "boolean"));
    return params;
  }

  private static List<JsonObject> deleteParams() {
    return List.of(query("dryRun", "string"), query("gracePeriodSeconds", "integer"),
        query("ignoreStoreReadErrorWithClusterBreakingPotential", "boolean"), query("orphanDependents", "boolean"),
        query("propagationPolicy", "string"));
  }

  private static List<JsonObject> concat(List<JsonObject> a, List<JsonObject> b) {
    List<JsonObject> out = new java.util.ArrayList<>(a);
    out.addAll(b);
    return out;
  }

  private static JsonObject query(String name, String type) {
    return new JsonObject().put("name", name).put("in", "query")
        .put("schema", new JsonObject().put("type", type).put("uniqueItems", true));
  }

  private static JsonObject path(String name) {
    return new JsonObject().put("name", name).put("in", "path").put("required", true)
        .put("schema", new JsonObject().put("type", "string").put("uniqueItems", true));
  }

  /** "" → Core, rbac.authorization.k8s.io → RbacAuthorization, stable.example.com → StableExampleCom. */
  static String groupWord(String group) {
    if (group.isEmpty()) return "Core";
    String g = group.endsWith(".k8s.io") ? group.substring(0, group.length() - ".k8s.io".length()) : group;
    StringBuilder sb = new StringBuilder();
    for (String part : g.split("[.-]")) sb.append(capitalize(part));
    return sb.toString();
  }

  private static String capitalize(String s) {
    return s.isEmpty() ? s : Character.toUpperCase(s.charAt(0)) + s.substring(1);
  }
}
