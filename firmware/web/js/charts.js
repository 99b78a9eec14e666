// placeholder until the view is written
import { h } from "./dom.js";

export default {
  id: "charts",
  title: "nav.charts",
  mount(el) {
    el.append(h("p", null, "…"));
  },
};
