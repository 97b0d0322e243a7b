package io.kvx.scheduler.framework;

import java.util.HashMap;
import java.util.Map;

/** Data plugins share within one scheduling attempt (PreFilter results read by Filter, ...). */
public final class CycleState {

  private final Map<String, Object> data = new HashMap<>();
  private boolean skipScore;
  /** The Filter plugins this attempt runs (PreFilter SKIPs removed), or null: all of them. */
  FilterPlugin[] filters;

  public void write(String key, Object value) {
    data.put(key, value);
  }

  @SuppressWarnings("unchecked")
  public <T> T read(String key) {
    return (T) data.get(key);
  }

  public CycleState copy() {
    CycleState c = new CycleState();
    c.data.putAll(data);
    c.filters = filters;
    return c;
  }

  boolean skipScore() {
    return skipScore;
  }

  void skipScore(boolean skip) {
    skipScore = skip;
  }
}
