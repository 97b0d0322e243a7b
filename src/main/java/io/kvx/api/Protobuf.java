package io.kvx.api;

import com.google.protobuf.ByteString;
import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import io.kubernetes.client.proto.IntStr;
import io.kubernetes.client.proto.Meta;
import io.kubernetes.client.proto.Resource;
import io.kubernetes.client.proto.Runtime;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.lang.reflect.InvocationTargetException;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Map;

/**
 * Request bodies in Kubernetes' protobuf encoding ({@code application/vnd.kubernetes.protobuf}):
 * the {@code k8s\0} magic, a runtime.Unknown envelope naming apiVersion and kind, and the object's
 * message from io.kubernetes client-java-proto, turned into the JSON form every other layer uses.
 */
public final class Protobuf {

  public static final String MEDIA_TYPE = "application/vnd.kubernetes.protobuf";
  private static final byte[] MAGIC = {'k', '8', 's', 0};
  private static final String QUANTITY = Resource.Quantity.getDescriptor().getFullName();
  private static final String INT_OR_STRING = IntStr.IntOrString.getDescriptor().getFullName();
  private static final String TIME = Meta.Time.getDescriptor().getFullName();
  private static final String MICRO_TIME = Meta.MicroTime.getDescriptor().getFullName();
  private static final String RAW_EXTENSION = Runtime.RawExtension.getDescriptor().getFullName();
  private static final String FIELDS_V1 = Meta.FieldsV1.getDescriptor().getFullName();

  /** Go structs embedded with `json:",inline"`: a field in protobuf, flattened into the parent in JSON. */
  private static final java.util.Set<String> INLINE = java.util.Set.of("handler", "volumeSource",
      "persistentVolumeSource", "ingressRuleValue", "probeHandler", "localObjectReference", "ephemeralContainerCommon",
      "rule", "ruleWithOperations");

  private Protobuf() {
  }

  public static JsonObject decode(byte[] body) {
    if (body.length < MAGIC.length || !Arrays.equals(Arrays.copyOf(body, MAGIC.length), MAGIC)) {
      throw ApiError.badRequest("the protobuf body does not start with the k8s\\0 magic");
    }
    try {
      Runtime.Unknown envelope = Runtime.Unknown.parseFrom(Arrays.copyOfRange(body, MAGIC.length, body.length));
      String apiVersion = envelope.getTypeMeta().getApiVersion();
      String kind = envelope.getTypeMeta().getKind();
      Message message = parse(apiVersion, kind, envelope.getRaw());
      return toJson(message).put("apiVersion", apiVersion).put("kind", kind);
    } catch (InvalidProtocolBufferException e) {
      throw ApiError.badRequest("the protobuf body could not be decoded: " + e.getMessage());
    }
  }

  /**
   * An object (apiVersion and kind set) in the protobuf encoding, for clients that accept only
   * {@code application/vnd.kubernetes.protobuf}: the magic, then runtime.Unknown{typeMeta, raw}. Fields the message
   * does not have are left out. Fails with UnsupportedMediaType for kinds client-java-proto has no message for
   * (custom resources).
   */
  public static byte[] encode(JsonObject object) {
    String apiVersion = object.getString("apiVersion", "v1");
    String kind = object.getString("kind", "");
    Message.Builder builder;
    try {
      builder = (Message.Builder) messageClass(apiVersion, kind).getMethod("newBuilder").invoke(null);
    } catch (ClassNotFoundException | NoSuchMethodException | IllegalAccessException | InvocationTargetException e) {
      throw new ApiError(ApiError.Reason.UnsupportedMediaType, "protobuf is not supported for " + apiVersion + " "
          + kind + "; accept application/json");
    }
    fill(builder, object);
    java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
    out.writeBytes(MAGIC);
    out.writeBytes(Runtime.Unknown.newBuilder().setTypeMeta(Runtime.TypeMeta.newBuilder().setApiVersion(apiVersion)
        .setKind(kind)).setRaw(builder.build().toByteString()).build().toByteArray());
    return out.toByteArray();
  }

  private static void fill(Message.Builder b, JsonObject json) {
    for (FieldDescriptor f : b.getDescriptorForType().getFields()) {
      if (f.getJavaType() == FieldDescriptor.JavaType.MESSAGE && !f.isRepeated() && INLINE.contains(f.getName())) {
        Message.Builder inline = b.newBuilderForField(f);
        fill(inline, json);
        if (!inline.getAllFields().isEmpty()) b.setField(f, inline.build());
        continue;
      }
      Object v = json.getValue(f.getName());
      if (v == null) continue;
      if (f.isMapField() && v instanceof JsonObject map) {
        for (Map.Entry<String, Object> e : map) {
          if (e.getValue() == null) continue;
          Message.Builder entry = b.newBuilderForField(f);
          Descriptor d = entry.getDescriptorForType();
          entry.setField(d.findFieldByName("key"), e.getKey());
          FieldDescriptor valueField = d.findFieldByName("value");
          entry.setField(valueField, value(entry, valueField, e.getValue()));
          b.addRepeatedField(f, entry.build());
        }
      } else if (f.isRepeated() && v instanceof JsonArray arr) {
        for (Object item : arr) {
          if (item != null) b.addRepeatedField(f, value(b, f, item));
        }
      } else if (!f.isRepeated()) {
        Object converted = value(b, f, v);
        if (converted != null) b.setField(f, converted);
      }
    }
  }

  /** One JSON value as the field's protobuf value (null: leave the field out). */
  private static Object value(Message.Builder parent, FieldDescriptor f, Object v) {
    return switch (f.getJavaType()) {
      case INT -> v instanceof Number n ? n.intValue() : null;
      case LONG -> v instanceof Number n ? n.longValue() : null;
      case FLOAT -> v instanceof Number n ? n.floatValue() : null;
      case DOUBLE -> v instanceof Number n ? n.doubleValue() : null;
      case BOOLEAN -> v instanceof Boolean bool ? bool : null;
      case STRING -> v instanceof JsonObject || v instanceof JsonArray ? null : String.valueOf(v);
      case BYTE_STRING -> ByteString.copyFrom(Base64.getDecoder().decode(String.valueOf(v)));
      case ENUM -> null;
      case MESSAGE -> messageValue(parent.newBuilderForField(f), v);
    };
  }

  private static Message messageValue(Message.Builder b, Object v) {
    String name = b.getDescriptorForType().getFullName();
    if (name.equals(QUANTITY)) return Resource.Quantity.newBuilder().setString(String.valueOf(v)).build();
    if (name.equals(INT_OR_STRING)) {
      return v instanceof Number n ? IntStr.IntOrString.newBuilder().setType(0).setIntVal(n.intValue()).build()
          : IntStr.IntOrString.newBuilder().setType(1).setStrVal(String.valueOf(v)).build();
    }
    if (name.equals(TIME) || name.equals(MICRO_TIME)) {
      Instant t;
      try {
        t = Instant.parse(String.valueOf(v));
      } catch (java.time.format.DateTimeParseException e) {
        return null;
      }
      return name.equals(TIME) ? Meta.Time.newBuilder().setSeconds(t.getEpochSecond()).build()
          : Meta.MicroTime.newBuilder().setSeconds(t.getEpochSecond()).setNanos(t.getNano()).build();
    }
    if (name.equals(RAW_EXTENSION)) {
      String raw = v instanceof JsonObject o ? o.encode() : v instanceof JsonArray a ? a.encode() : String.valueOf(v);
      return Runtime.RawExtension.newBuilder().setRaw(ByteString.copyFromUtf8(raw)).build();
    }
    if (!(v instanceof JsonObject o)) return null;
    fill(b, o);
    return b.build();
  }

  /** The generated message class: core/v1 kinds are in V1, apps/v1 in V1Apps, batch/v1 in V1Batch, ... */
  private static Message parse(String apiVersion, String kind, ByteString raw) {
    try {
      return (Message) messageClass(apiVersion, kind).getMethod("parseFrom", ByteString.class).invoke(null, raw);
    } catch (ClassNotFoundException | NoSuchMethodException | IllegalAccessException e) {
      throw new ApiError(ApiError.Reason.UnsupportedMediaType, "protobuf is not supported for " + apiVersion + " "
          + kind + "; send application/json");
    } catch (InvocationTargetException e) {
      throw ApiError.badRequest("the protobuf " + kind + " could not be decoded: " + e.getCause().getMessage());
    }
  }

  private static Class<?> messageClass(String apiVersion, String kind) throws ClassNotFoundException {
    String group = apiVersion.contains("/") ? apiVersion.substring(0, apiVersion.indexOf('/')) : "";
    String version = apiVersion.substring(apiVersion.indexOf('/') + 1);
    if (version.isEmpty() || kind.isEmpty()) throw new ClassNotFoundException(apiVersion + " " + kind);
    String outer = Character.toUpperCase(version.charAt(0)) + version.substring(1);
    if (!group.isEmpty()) {
      String first = group.split("\\.")[0];
      outer += Character.toUpperCase(first.charAt(0)) + first.substring(1);
    }
    try {
      return Class.forName("io.kubernetes.client.proto." + outer + "$" + kind);
    } catch (ClassNotFoundException e) {
      return fallback(outer, kind);
    }
  }

  /**
   * Where the generated classes lack a group-version: Options kinds (DeleteOptions, ...) live in the
   * Meta file; a GA version missing from client-java-proto 24 (autoscaling/v2) decodes with its last
   * beta, whose wire format it kept.
   */
  private static Class<?> fallback(String outer, String kind) throws ClassNotFoundException {
    for (String candidate : java.util.List.of("Meta", outer.replaceFirst("^(V\\d+)", "$1beta2"),
        outer.replaceFirst("^(V\\d+)", "$1beta1"))) {
      try {
        return Class.forName("io.kubernetes.client.proto." + candidate + "$" + kind);
      } catch (ClassNotFoundException next) {
        // try the next
      }
    }
    throw new ClassNotFoundException(outer + "$" + kind);
  }

  static JsonObject toJson(Message m) {
    JsonObject out = new JsonObject();
    for (Map.Entry<FieldDescriptor, Object> e : m.getAllFields().entrySet()) {
      FieldDescriptor f = e.getKey();
      Object v = field(f, e.getValue());
      if (v instanceof JsonObject inner && INLINE.contains(f.getName())) out.mergeIn(inner);
      else if (v != null) out.put(f.getName(), v);
    }
    return out;
  }

  private static Object field(FieldDescriptor f, Object value) {
    if (f.isMapField()) {
      JsonObject map = new JsonObject();
      for (Object entry : (List<?>) value) {
        Message m = (Message) entry;
        Descriptor d = m.getDescriptorForType();
        FieldDescriptor valueField = d.findFieldByName("value");
        Object v = m.hasField(valueField) ? single(valueField, m.getField(valueField)) : null;
        // An empty map value is a value (a ConfigMap key set to ""), not an absent field.
        map.put(String.valueOf(m.getField(d.findFieldByName("key"))), v != null ? v : scalarDefault(valueField));
      }
      return map;
    }
    if (f.isRepeated()) {
      JsonArray arr = new JsonArray();
      for (Object v : (List<?>) value) arr.add(single(f, v));
      return arr;
    }
    return single(f, value);
  }

  private static Object scalarDefault(FieldDescriptor f) {
    return f.getJavaType() == FieldDescriptor.JavaType.BYTE_STRING ? "" : f.getDefaultValue();
  }

  /**
   * A field's JSON value, or null to leave it out: Go's protobuf encoder writes non-pointer strings
   * and times even when empty, where its JSON encoder (omitempty) writes nothing.
   */
  private static Object single(FieldDescriptor f, Object v) {
    if (!f.isRepeated() && v instanceof String str && str.isEmpty()) return null;
    return switch (f.getJavaType()) {
      case MESSAGE -> message((Message) v);
      case BYTE_STRING -> Base64.getEncoder().encodeToString(((ByteString) v).toByteArray());
      case ENUM -> v.toString();
      default -> v;
    };
  }

  /** The apimachinery types whose JSON form is not their message form. */
  private static Object message(Message m) {
    String name = m.getDescriptorForType().getFullName();
    if (name.equals(QUANTITY)) return ((Resource.Quantity) m).getString();
    if (name.equals(INT_OR_STRING)) {
      IntStr.IntOrString v = (IntStr.IntOrString) m;
      return v.getType() == 1 ? v.getStrVal() : v.getIntVal();
    }
    if (name.equals(TIME)) {
      Meta.Time t = (Meta.Time) m;
      if (t.getSeconds() == 0 && t.getNanos() == 0) return null;
      return Instant.ofEpochSecond(t.getSeconds()).truncatedTo(ChronoUnit.SECONDS).toString();
    }
    if (name.equals(MICRO_TIME)) {
      Meta.MicroTime t = (Meta.MicroTime) m;
      if (t.getSeconds() == 0 && t.getNanos() == 0) return null;
      return io.kvx.api.Meta.microTime(Instant.ofEpochSecond(t.getSeconds(), t.getNanos()));
    }
    if (name.equals(FIELDS_V1)) {
      // managedFields' field sets travel as their JSON text.
      String raw = ((Meta.FieldsV1) m).getRaw().toStringUtf8();
      try {
        return raw.isEmpty() ? new JsonObject() : new JsonObject(raw);
      } catch (DecodeException e) {
        throw ApiError.badRequest("managedFields fieldsV1 is not JSON: " + e.getMessage());
      }
    }
    if (name.equals(RAW_EXTENSION)) {
      String raw = ((Runtime.RawExtension) m).getRaw().toStringUtf8();
      try {
        return raw.isEmpty() ? new JsonObject() : new JsonObject(raw);
      } catch (DecodeException e) {
        throw ApiError.badRequest("an embedded object is not JSON: " + e.getMessage());
      }
    }
    return toJson(m);
  }
}
