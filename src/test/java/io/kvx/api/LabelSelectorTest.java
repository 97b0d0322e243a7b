package io.kvx.api;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class LabelSelectorTest {

  private static final Map<String, String> LABELS = Map.of("app", "web", "tier", "front", "env", "prod");

  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
      "app=web|true", "app==web|true", "app!=web|false", "app=db|false", "app|true", "!app|false", "missing|false",
      "!missing|true", "app in (web,db)|true", "app notin (web,db)|false", "env in (dev)|false",
      "app=web,tier=front|true", "app=web,tier=back|false", "app in (web), env notin (dev,test)|true", "''|true"})
  void matchesAsKubernetesDoes(String selector, boolean expected) {
    assertEquals(expected, LabelSelector.parse(selector).matches(LABELS), selector);
  }

  @Test
  void badSyntaxIsA400() {
    ApiError e = assertThrows(ApiError.class, () -> LabelSelector.parse("app=web,,"));
    assertEquals(400, e.code());
    assertThrows(ApiError.class, () -> LabelSelector.parse("app in (web"));
    assertThrows(ApiError.class, () -> LabelSelector.parse("bad key=x"));
  }
}
