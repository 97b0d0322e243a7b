package io.kvx.api;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

class QuantitiesTest {

  @Test
  void quantitiesAreWrittenBackInKubernetesCanonicalForm() {
    String[][] cases = {
        {"0.5", "500m"}, {"1000m", "1"}, {"1.5", "1500m"}, {"100m", "100m"}, {"2", "2"}, {"0", "0"},
        {"1024Mi", "1Gi"}, {"1.5Gi", "1536Mi"}, {"64Mi", "64Mi"}, {"512", "512"}, {"1536", "1536"},
        {"2048", "2048"}, {"2G", "2G"}, {"2000M", "2G"}, {"1500k", "1500k"}, {"128974848", "128974848"},
        {"129e6", "129e6"}, {"1e3", "1e3"}, {"0.1Gi", "107374182400m"}, {"0.5Gi", "512Mi"}, {"1Ki", "1Ki"},
        {"0.0000000001", "1n"}, {"-1", "-1"}, {"abc", "abc"}};
    for (String[] c : cases) assertEquals(c[1], Quantities.canonical(c[0]), c[0]);
  }
}
