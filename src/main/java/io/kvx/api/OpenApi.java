package io.kvx.api;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The OpenAPI documents of a set of served resource types: the v3 root (one hashed URL per
 * group-version), one OpenAPI 3.0 document per group-version, and one Swagger 2.0 document for all.
 * kubectl reads them to learn that PATCH takes {@code fieldValidation} (so it validates on the server),
 * which patch types a kind accepts and its merge keys (client-side apply), and field docs (explain).
 * Built-in kinds' schemas come from fabric8's model ({@link ModelSchemas}); custom kinds use their CRD's
 * openAPIV3Schema. Pure; documents are built on first use and kept (an instance serves one snapshot of
 * the registry).
 */
public final class OpenApi {

  public static final String V3 = "/openapi/v3";
  private static final String M = "io.fabric8.kubernetes.api.model.";
  private static final List<String> PATCH_TYPES = List.of("application/json-patch+json",
      "application/merge-patch+json", "application/strategic-merge-patch+json", "application/apply-patch+yaml");
  private static final List<String> REPLY_TYPES = List.of("application/json", "application/yaml");

  /** A rendered document: its JSON, its text and the hash clients use as its version. */
  public record Document(JsonObject json, String text, String hash) {
    static Document of(JsonObject json) {
      String text = json.encode();
      return new Document(json, text, OpenApi.hash(text));
    }
  }

  private final List<ResourceType> types;
  private Map<String, Document> v3;
  private Document v2;
  private byte[] v2Protobuf;
  private Document root;

  private final List<ResourceType> createOnly;

  public OpenApi(List<ResourceType> types) {
    this(types, List.of());
  }

  /**
   * {@code createOnly}: kinds whose only verb is create (the review APIs): described, with a POST on
   * their collection and nothing else, as kube-apiserver does.
   */
  public OpenApi(List<ResourceType> types, List<ResourceType> createOnly) {
    // Types without a schema (the metrics.k8s.io views) are served but not described.
    List<ResourceType> all = new ArrayList<>(types);
    all.addAll(createOnly);
    this.types = all.stream().filter(t -> t.model() != null || t.isCustom()).toList();
    this.createOnly = List.copyOf(createOnly);
  }

  public List<ResourceType> types() {
    return types;
  }

  /** The root path of a group-version's document: "api/v1" or "apis/apps/v1". */
  public static String path(String group, String version) {
    return group.isEmpty() ? "api/" + version : "apis/" + group + "/" + version;
  }

  /** Group-version path → its v3 document, for every group-version served. */
  public synchronized Map<String, Document> v3() {
    if (v3 == null) {
      Map<String, List<ResourceType>> byGv = new LinkedHashMap<>();
      for (ResourceType t : types) byGv.computeIfAbsent(path(t.group(), t.version()), k -> new ArrayList<>()).add(t);
      Map<String, Document> out = new TreeMap<>();
      byGv.forEach((p, ts) -> out.put(p, Document.of(groupVersion(ts, createOnly))));
      v3 = out;
    }
    return v3;
  }

  /** The v3 document of a group-version path, or null. */
  public Document v3(String path) {
    return v3().get(path);
  }

  /** The v3 discovery root: each group-version's document URL, versioned by its hash. */
  public synchronized Document root() {
    if (root == null) {
      JsonObject paths = new JsonObject();
      v3().forEach((p, doc) -> paths.put(p, new JsonObject().put("serverRelativeURL",
          V3 + "/" + p + "?hash=" + doc.hash())));
      root = Document.of(new JsonObject().put("paths", paths));
    }
    return root;
  }

  /** One Swagger 2.0 document for every group-version. */
  public synchronized Document v2() {
    if (v2 == null) {
      JsonObject paths = new JsonObject();
      Map<String, JsonObject> definitions = new TreeMap<>();
      for (Document d : v3().values()) {
        d.json().getJsonObject("paths").forEach(e -> paths.put(e.getKey(), SwaggerV2.pathItem((JsonObject) e.getValue())));
        d.json().getJsonObject("components").getJsonObject("schemas")
            .forEach(e -> definitions.put(e.getKey(), SwaggerV2.schema((JsonObject) e.getValue())));
      }
      v2 = Document.of(new JsonObject().put("swagger", "2.0").put("info", info()).put("paths", paths)
          .put("definitions", new JsonObject(new LinkedHashMap<>(definitions)))
          .put("securityDefinitions", new JsonObject().put("BearerToken", bearer()))
          .put("security", new JsonArray().add(new JsonObject().put("BearerToken", new JsonArray()))));
    }
    return v2;
  }

  /** The v2 document in gnostic's protobuf encoding (what client-go's OpenAPISchema() asks for). */
  public synchronized byte[] v2Protobuf() {
    if (v2Protobuf == null) v2Protobuf = SwaggerV2Proto.encode(v2().json());
    return v2Protobuf;
  }

  /** The OpenAPI 3.0 document of one group-version's resource types. */
  static JsonObject groupVersion(List<ResourceType> gvTypes, List<ResourceType> createOnly) {
    Map<String, JsonObject> schemas = new TreeMap<>();
    JsonObject paths = new JsonObject();
    for (String meta : List.of("DeleteOptions", "Status", "APIResourceList", "WatchEvent")) {
      ModelSchemas.collect(model(meta), schemas);
    }
    schemas.put(ModelSchemas.META + "Patch", new JsonObject().put("type", "object"));
    for (ResourceType t : gvTypes) {
      String kindName = kindSchema(t, schemas);
      if (createOnly.contains(t)) {
        new OpenApiPaths(t, kindName, null).addCreateTo(paths);
        continue;
      }
      String listName = listSchema(t, kindName, schemas);
      for (String sub : t.subresources()) subresourceSchema(t, sub, schemas);
      new OpenApiPaths(t, kindName, listName).addTo(paths);
    }
    return new JsonObject().put("openapi", "3.0.0").put("info", info()).put("paths", paths)
        .put("components", new JsonObject().put("schemas", new JsonObject(new LinkedHashMap<>(schemas)))
            .put("securitySchemes", new JsonObject().put("BearerToken", bearer())))
        .put("security", new JsonArray().add(new JsonObject().put("BearerToken", new JsonArray())));
  }

  private static String kindSchema(ResourceType t, Map<String, JsonObject> schemas) {
    String name;
    if (t.isCustom()) {
      name = customName(t, t.kind());
      JsonObject schema = t.schema() == null
          ? new JsonObject().put("type", "object").put("x-kubernetes-preserve-unknown-fields", true)
          : t.schema().copy();
      JsonObject props = schema.getJsonObject("properties");
      if (props == null) {
        props = new JsonObject();
        schema.put("properties", props);
      }
      schema.put("type", "object");
      props.put("apiVersion", new JsonObject().put("type", "string"));
      props.put("kind", new JsonObject().put("type", "string"));
      props.put("metadata", ModelSchemas.ref(ModelSchemas.OBJECT_META));
      ModelSchemas.collect(model("ObjectMeta"), schemas);
      schemas.put(name, schema);
    } else {
      name = ModelSchemas.collect(t.model(), schemas);
    }
    gvk(schemas.get(name), t.group(), t.version(), t.kind());
    return name;
  }

  private static String listSchema(ResourceType t, String kindName, Map<String, JsonObject> schemas) {
    String name;
    if (t.isCustom()) {
      name = customName(t, t.kind() + "List");
      ModelSchemas.collect(model("ListMeta"), schemas);
      schemas.put(name, new JsonObject().put("type", "object").put("required", new JsonArray().add("items"))
          .put("properties", new JsonObject()
              .put("apiVersion", new JsonObject().put("type", "string"))
              .put("kind", new JsonObject().put("type", "string"))
              .put("metadata", ModelSchemas.ref(ModelSchemas.META + "ListMeta"))
              .put("items", new JsonObject().put("type", "array").put("items", ModelSchemas.ref(kindName)))));
    } else {
      try {
        name = ModelSchemas.collect(Class.forName(t.model().getName() + "List"), schemas);
      } catch (ClassNotFoundException e) {
        return null;
      }
    }
    gvk(schemas.get(name), t.group(), t.version(), t.kind() + "List");
    return name;
  }

  private static void subresourceSchema(ResourceType t, String sub, Map<String, JsonObject> schemas) {
    String[] gvk = OpenApiPaths.subresourceKind(t, sub);
    if (gvk == null || gvk[3] == null) return;
    try {
      String name = ModelSchemas.collect(Class.forName(M + gvk[3]), schemas);
      gvk(schemas.get(name), gvk[0], gvk[1], gvk[2]);
    } catch (ClassNotFoundException e) {
      // A kind fabric8's model on the class path lacks: the operation's body stays untyped.
    }
  }

  /** Kubernetes names custom kinds by their group reversed: stable.example.com → com.example.stable. */
  static String customName(ResourceType t, String kind) {
    String[] parts = t.group().split("\\.");
    StringBuilder sb = new StringBuilder();
    for (int i = parts.length - 1; i >= 0; i--) sb.append(parts[i]).append('.');
    return sb + t.version() + "." + kind;
  }

  private static void gvk(JsonObject schema, String group, String version, String kind) {
    JsonArray list = schema.getJsonArray("x-kubernetes-group-version-kind");
    if (list == null) {
      list = new JsonArray();
      schema.put("x-kubernetes-group-version-kind", list);
    }
    JsonObject entry = new JsonObject().put("group", group).put("kind", kind).put("version", version);
    if (!list.contains(entry)) list.add(entry);
  }

  static Class<?> model(String simpleName) {
    try {
      return Class.forName(M + simpleName);
    } catch (ClassNotFoundException e) {
      throw new IllegalStateException("fabric8 model class missing: " + simpleName, e);
    }
  }

  private static JsonObject info() {
    return new JsonObject().put("title", "Kubernetes").put("version", "v1.35.0");
  }

  private static JsonObject bearer() {
    return new JsonObject().put("type", "apiKey").put("name", "authorization").put("in", "header");
  }

  /** Upper-case hex SHA-512 of a document, as kube-apiserver versions its OpenAPI URLs. */
  static String hash(String text) {
    try {
      return HexFormat.of().withUpperCase().formatHex(MessageDigest.getInstance("SHA-512")
          .digest(text.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  static List<String> patchTypes(ResourceType t) {
    // Custom resources take no strategic merge patch; kubectl then computes a JSON merge patch.
    return t.isCustom() ? PATCH_TYPES.stream().filter(p -> !p.contains("strategic")).toList() : PATCH_TYPES;
  }

  static List<String> replyTypes() {
    return REPLY_TYPES;
  }
}
