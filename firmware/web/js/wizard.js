// placeholder until the view is written
import { h } from "./dom.js";

export default {
  id: "wizard",
  title: "nav.wizard",
  mount(el) {
    el.append(h("p", null, "…"));
  },
};
