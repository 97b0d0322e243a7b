package io.kvx.scheduler;

import io.fabric8.kubernetes.api.model.Pod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import tools.jackson.core.JsonGenerator;
import tools.jackson.databind.DeserializationFeature;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.util.TokenBuffer;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.List;
import java.util.Map;

/**
 * Watched objects (Vert.x JSON trees) into fabric8 models without a text round trip: the tree is replayed as
 * Jackson tokens straight into the model's deserializer (no JSON text written and parsed again). Pods lose
 * metadata.managedFields on the way, as kube-scheduler's pod informer drops them: nothing in scheduling reads
 * them and they are often the biggest part of a pod.
 */
public final class PodDecoder {

  private static final JsonMapper MAPPER = JsonMapper.builder()
      .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES).build();

  private PodDecoder() {
  }

  /** A pod as the scheduler keeps it (without managedFields). */
  public static Pod decode(JsonObject obj) {
    return decode(obj, Pod.class);
  }

  /** Any model, without metadata.managedFields (nothing in the scheduler reads them). */
  public static <T> T decode(JsonObject obj, Class<T> type) {
    TokenBuffer tokens = TokenBuffer.forGeneration();
    writeObject(tokens, obj.getMap(), 0);
    return MAPPER.readValue(tokens, type);
  }

  /**
   * {@code depth} marks where managedFields are left out: 0 at the top (its "metadata" gets 1), 1 in that
   * metadata, -1 anywhere else.
   */
  private static void writeObject(JsonGenerator g, Map<String, Object> map, int depth) {
    g.writeStartObject();
    for (Map.Entry<String, Object> e : map.entrySet()) {
      String k = e.getKey();
      if (depth == 1 && k.equals("managedFields")) continue;
      g.writeName(k);
      write(g, e.getValue(), depth == 0 && k.equals("metadata") ? 1 : -1);
    }
    g.writeEndObject();
  }

  @SuppressWarnings("unchecked")
  private static void write(JsonGenerator g, Object v, int depth) {
    switch (v) {
      case null -> g.writeNull();
      case String s -> g.writeString(s);
      case Integer i -> g.writeNumber(i);
      case Long l -> g.writeNumber(l);
      case Boolean b -> g.writeBoolean(b);
      case Double d -> g.writeNumber(d);
      case Float f -> g.writeNumber(f);
      case BigDecimal d -> g.writeNumber(d);
      case BigInteger i -> g.writeNumber(i);
      case Short s -> g.writeNumber(s);
      case Byte b -> g.writeNumber(b);
      case JsonObject o -> writeObject(g, o.getMap(), depth);
      case Map<?, ?> m -> writeObject(g, (Map<String, Object>) m, depth);
      case JsonArray a -> writeArray(g, a.getList());
      case List<?> l -> writeArray(g, l);
      default -> g.writeString(v.toString());
    }
  }

  private static void writeArray(JsonGenerator g, List<?> list) {
    g.writeStartArray();
    for (Object o : list) write(g, o, -1);
    g.writeEndArray();
  }
}
