package io.kvx.api;

import dev.cel.common.CelAbstractSyntaxTree;
import dev.cel.common.CelValidationException;
import dev.cel.common.types.SimpleType;
import dev.cel.compiler.CelCompiler;
import dev.cel.compiler.CelCompilerFactory;
import dev.cel.parser.CelStandardMacro;
import dev.cel.runtime.CelEvaluationException;
import dev.cel.runtime.CelRuntime;
import dev.cel.runtime.CelRuntimeFactory;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.logging.Logger;

/**
 * A CustomResourceDefinition schema's validation rules ({@code x-kubernetes-validations}), evaluated with CEL as the
 * apiextensions server does: at each schema node that has rules, {@code self} is the value there and, on an update,
 * {@code oldSelf} the value it replaces; a rule that uses {@code oldSelf} (a transition rule) is checked only when
 * there is an old value. A rule that is false fails the write with its message (or messageExpression), its reason
 * and its fieldPath. Standard CEL with its macros and Kubernetes' environment ({@link KubeCel}); a rule using
 * something CEL here does not know (the authorizer, format) is skipped. Pure.
 */
public final class CelRules {

  private static final Logger LOG = Logger.getLogger(CelRules.class.getName());
  private static final CelCompiler RULES = compiler(SimpleType.BOOL);
  private static final CelCompiler MESSAGES = compiler(SimpleType.STRING);
  private static final CelRuntime RUNTIME = runtime();
  /** Compiled programs by expression (empty: it does not compile here). */
  private static final Map<String, Optional<CelRuntime.Program>> PROGRAMS = new ConcurrentHashMap<>();

  private CelRules() {
  }

  /** Admission's expressions (match conditions, policies' validations, variables, messages): kube's variables. */
  private static final List<String> ADMISSION_VARS = List.of("object", "oldObject", "request", "params",
      "namespaceObject", "variables");
  private static final Map<dev.cel.common.types.CelType, CelCompiler> ADMISSION = new ConcurrentHashMap<>();

  private static CelRuntime runtime() {
    var b = CelRuntimeFactory.standardCelRuntimeBuilder();
    KubeCel.runtime(b);
    return b.build();
  }

  private static CelCompiler compiler(dev.cel.common.types.CelType result) {
    var b = CelCompilerFactory.standardCelCompilerBuilder().setStandardMacros(CelStandardMacro.STANDARD_MACROS)
        .addVar("self", SimpleType.DYN).addVar("oldSelf", SimpleType.DYN).setResultType(result);
    KubeCel.compiler(b);
    return b.build();
  }

  /** Checks {@code value} (and {@code old}, null on a create) against the rules in {@code schema}, adding causes. */
  public static void validate(JsonObject schema, Object value, Object old, String path, List<ApiError.Cause> causes) {
    if (schema == null || value == null) return;
    if (schema.getValue("x-kubernetes-validations") instanceof JsonArray rules) {
      for (Object o : rules) {
        if (o instanceof JsonObject rule) check(rule, schema, value, old, path, causes);
      }
    }
    if (value instanceof JsonObject obj) {
      JsonObject props = schema.getJsonObject("properties");
      JsonObject oldObj = old instanceof JsonObject o ? o : null;
      if (props != null) {
        for (String name : props.fieldNames()) {
          if (obj.getValue(name) == null) continue;
          validate(props.getJsonObject(name), obj.getValue(name), oldObj == null ? null : oldObj.getValue(name),
              join(path, name), causes);
        }
      } else if (schema.getValue("additionalProperties") instanceof JsonObject each) {
        for (String key : obj.fieldNames()) {
          validate(each, obj.getValue(key), oldObj == null ? null : oldObj.getValue(key), path + "[" + key + "]", causes);
        }
      }
    } else if (value instanceof JsonArray list && schema.getValue("items") instanceof JsonObject items) {
      for (int i = 0; i < list.size(); i++) validate(items, list.getValue(i), null, path + "[" + i + "]", causes);
    }
  }

  /**
   * The rules of one schema node that do not parse, as a CRD write's causes ({@code ...x-kubernetes-validations[i].rule:
   * Invalid value: "RULE": compilation failed: ...}). Rules that parse but use what CEL here does not know are left
   * to be skipped at evaluation.
   */
  public static void checkSyntax(JsonObject schema, String path, List<ApiError.Cause> causes) {
    if (schema == null) return;
    if (schema.getValue("x-kubernetes-validations") instanceof JsonArray rules) {
      for (int i = 0; i < rules.size(); i++) {
        if (!(rules.getValue(i) instanceof JsonObject rule)) continue;
        String at = path + ".x-kubernetes-validations[" + i + "]";
        String expression = rule.getString("rule", "");
        if (expression.isBlank()) {
          causes.add(Causes.required(at + ".rule", null));
          continue;
        }
        try {
          RULES.parse(expression).getAst();
        } catch (CelValidationException e) {
          causes.add(Causes.invalid(at + ".rule", expression, "compilation failed: " + e.getMessage()));
        }
      }
    }
  }

  private static String join(String path, String name) {
    return path.isEmpty() ? name : path + "." + name;
  }

  private static void check(JsonObject rule, JsonObject schema, Object value, Object old, String path,
                            List<ApiError.Cause> causes) {
    String expression = rule.getString("rule", "");
    boolean transition = expression.contains("oldSelf");
    if (transition && old == null) return;
    Optional<CelRuntime.Program> program = program(RULES, expression);
    if (program.isEmpty()) return;
    Map<String, Object> vars = new LinkedHashMap<>();
    vars.put("self", cel(value));
    if (old != null) vars.put("oldSelf", cel(old));
    String failure;
    try {
      if (Boolean.TRUE.equals(program.get().eval(vars))) return;
      failure = message(rule, vars);
    } catch (CelEvaluationException | RuntimeException e) {
      failure = "rule evaluation error: " + goWords(e.getMessage());
    }
    String field = path + rule.getString("fieldPath", "");
    if (field.startsWith(".")) field = field.substring(1);
    String reason = rule.getString("reason", "FieldValueInvalid");
    String shown = switch (reason) {
      case "FieldValueForbidden" -> "Forbidden: " + failure;
      case "FieldValueRequired" -> "Required value: " + failure;
      case "FieldValueDuplicate" -> "Duplicate value: \"" + schema.getString("type", "object") + "\"";
      default -> "Invalid value: \"" + schema.getString("type", "object") + "\": " + failure;
    };
    causes.add(new ApiError.Cause(field, reason, shown));
  }

  private static String message(JsonObject rule, Map<String, Object> vars) {
    String expression = rule.getString("messageExpression");
    if (expression != null) {
      Optional<CelRuntime.Program> program = program(MESSAGES, expression);
      if (program.isPresent()) {
        try {
          Object m = program.get().eval(vars);
          if (m instanceof String s && !s.isBlank()) return s;
        } catch (CelEvaluationException | RuntimeException e) {
          LOG.fine("messageExpression " + expression + ": " + e.getMessage());
        }
      }
    }
    String message = rule.getString("message");
    return message != null && !message.isEmpty() ? message : "failed rule: " + rule.getString("rule", "");
  }

  private static Optional<CelRuntime.Program> program(CelCompiler compiler, String expression) {
    return PROGRAMS.computeIfAbsent((compiler == RULES ? "r:" : "m:") + expression, k -> {
      try {
        CelAbstractSyntaxTree ast = compiler.compile(expression).getAst();
        return Optional.of(RUNTIME.createProgram(ast));
      } catch (CelValidationException | CelEvaluationException | RuntimeException e) {
        LOG.fine("CEL rule not evaluated here: " + expression + ": " + e.getMessage());
        return Optional.empty();
      }
    });
  }

  private static final java.util.regex.Pattern NO_KEY = java.util.regex.Pattern.compile("key '([^']*)' is not present in map\\.?");
  private static final java.util.regex.Pattern AT_INPUT = java.util.regex.Pattern.compile("^evaluation error at <input>:\\d+: ");

  /** cel-java's run-time error as cel-go (kube's CEL) words the usual ones: "no such key: X". */
  static String goWords(String message) {
    if (message == null) return null;
    String m = AT_INPUT.matcher(message).replaceFirst("");
    return NO_KEY.matcher(m).replaceAll("no such key: $1");
  }

  /** A JSON value as CEL's Java values: maps, lists, 64-bit integers, doubles, strings, booleans. */
  static Object cel(Object v) {
    if (v instanceof JsonObject o) {
      Map<String, Object> out = new LinkedHashMap<>();
      o.forEach(e -> {
        if (e.getValue() != null) out.put(e.getKey(), cel(e.getValue()));
      });
      return out;
    }
    if (v instanceof JsonArray a) {
      List<Object> out = new ArrayList<>();
      for (Object x : a) {
        if (x != null) out.add(cel(x));
      }
      return out;
    }
    if (v instanceof Integer || v instanceof Long || v instanceof Short || v instanceof Byte) return ((Number) v).longValue();
    if (v instanceof Float f) return f.doubleValue();
    if (v instanceof java.math.BigDecimal d) return d.doubleValue();
    if (v instanceof java.math.BigInteger i) return i.longValue();
    return v;
  }

  private static CelCompiler admissionCompiler(dev.cel.common.types.CelType result) {
    return ADMISSION.computeIfAbsent(result, t -> {
      var b = CelCompilerFactory.standardCelCompilerBuilder().setStandardMacros(CelStandardMacro.STANDARD_MACROS)
          .setResultType(t);
      KubeCel.compiler(b);
      for (String v : ADMISSION_VARS) b.addVar(v, SimpleType.DYN);
      return b.build();
    });
  }

  /** An admission expression compiled once: its program, or why it does not compile here. */
  private record Compiled(CelRuntime.Program program, String error) {}

  private static final Map<String, Compiled> ADMISSION_PROGRAMS = new ConcurrentHashMap<>();

  private static Compiled compiledAdmission(String expression, dev.cel.common.types.CelType result) {
    return ADMISSION_PROGRAMS.computeIfAbsent(result + ":" + expression, k -> {
      try {
        return new Compiled(RUNTIME.createProgram(admissionCompiler(result).compile(expression).getAst()), null);
      } catch (CelValidationException | CelEvaluationException | RuntimeException e) {
        return new Compiled(null, e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage());
      }
    });
  }

  /** Why an admission expression of this result type (BOOL, STRING, DYN) does not compile, or null when it does. */
  public static String compileError(String expression, dev.cel.common.types.CelType result) {
    return compiledAdmission(expression, result).error();
  }

  /**
   * Evaluates an admission expression (a match condition, a policy's validation, variable or message) with kube's
   * variables: {@code object}, {@code oldObject}, {@code request}, {@code params}, {@code namespaceObject} (null when
   * absent) and {@code variables}. {@code result} is the type it must have (BOOL, STRING, or DYN for a variable).
   * Fails with IllegalArgumentException when it does not compile here or its evaluation fails.
   */
  public static Object evalAdmission(String expression, dev.cel.common.types.CelType result, Map<String, Object> given) {
    Compiled compiled = compiledAdmission(expression, result);
    if (compiled.program() == null) throw new IllegalArgumentException("compilation failed: " + compiled.error());
    Map<String, Object> vars = new LinkedHashMap<>();
    for (String v : ADMISSION_VARS) {
      Object value = given.get(v);
      vars.put(v, value == null ? com.google.protobuf.NullValue.NULL_VALUE : v.equals("variables") ? value : cel(value));
    }
    try {
      return compiled.program().eval(vars);
    } catch (CelEvaluationException | RuntimeException e) {
      Throwable cause = e.getCause() != null && (e.getMessage() == null || e.getMessage().isEmpty()) ? e.getCause() : e;
      throw new IllegalArgumentException(cause.getMessage() == null || cause.getMessage().isEmpty()
          ? cause.getClass().getSimpleName() : goWords(cause.getMessage()));
    }
  }
}
