package io.kvx.api;

import io.vertx.core.json.JsonObject;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.DeserializationFeature;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.dataformat.yaml.YAMLMapper;

import java.util.Map;

/**
 * Conversions between Vert.x JSON (what the store and the bus carry) and fabric8's typed Kubernetes
 * model (what components reason about), on the Jackson 3 mapper fabric8 8 is built for.
 */
public final class Json {

  private static final JsonMapper MAPPER = JsonMapper.builder()
      .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
      .build();
  private static final YAMLMapper YAML = YAMLMapper.builder().build();

  private Json() {
  }

  /** Decodes into a fabric8 type; a type mismatch is a 400 naming the field, as kube-apiserver does. */
  public static <T> T decode(JsonObject obj, Class<T> type) {
    try {
      return MAPPER.convertValue(obj.getMap(), type);
    } catch (JacksonException | IllegalArgumentException e) {
      throw ApiError.badRequest("failed to decode " + type.getSimpleName() + ": " + describe(e));
    }
  }

  @SuppressWarnings("unchecked")
  public static JsonObject encode(Object typed) {
    return new JsonObject((Map<String, Object>) MAPPER.convertValue(typed, Map.class));
  }

  /** Parses a YAML document (a request body) into JSON. */
  @SuppressWarnings("unchecked")
  public static JsonObject fromYaml(String yaml) {
    try {
      Object parsed = YAML.readValue(yaml, Object.class);
      if (!(parsed instanceof Map)) throw ApiError.badRequest("the YAML body is not an object");
      return new JsonObject((Map<String, Object>) parsed);
    } catch (JacksonException e) {
      throw ApiError.badRequest("error converting YAML to JSON: " + e.getOriginalMessage());
    }
  }

  public static String toYaml(JsonObject obj) {
    return YAML.writeValueAsString(obj.getMap());
  }

  private static String describe(Exception e) {
    if (e instanceof JacksonException je) {
      return je.getOriginalMessage() + " at " + je.getPathReference();
    }
    Throwable cause = e.getCause();
    if (cause instanceof JacksonException je) {
      return je.getOriginalMessage() + " at " + je.getPathReference();
    }
    return e.getMessage();
  }
}
