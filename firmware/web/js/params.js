// placeholder until the view is written
import { h } from "./dom.js";

export default {
  id: "params",
  title: "nav.params",
  mount(el) {
    el.append(h("p", null, "…"));
  },
};
