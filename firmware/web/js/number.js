// A number typed by the user, checked as the router will check it (router/params.py parse):
// ',' or '.' as the decimal mark, a whole number where none are kept, within the limits.
// Shared by the parameters page and the wizard so both refuse the same things the same way.
import { t, addStrings } from "./i18n.js";

addStrings({
  "num.nan": ["« {v} » n'est pas un nombre", "'{v}' is not a number"],
  "num.whole": ["Nombre entier attendu", "A whole number is expected"],
  "num.out": ["Hors plage : {range}", "Out of range: {range}"],
});

// -> {value: the number, text: it as the API takes it} or {error}; rangeText names the limits
export function checkNumber(text, lo, hi, decimals, rangeText) {
  const s = String(text).trim().replace(/,/g, ".");
  if (!/^[-+]?(\d+\.?\d*|\.\d+)$/.test(s)) return { error: t("num.nan", { v: String(text).trim() }) };
  const v = Number(s);
  if (decimals === 0 && !Number.isInteger(v)) return { error: t("num.whole") };
  if (v < lo || v > hi) return { error: t("num.out", { range: rangeText }) };
  return { value: v, text: s };
}
