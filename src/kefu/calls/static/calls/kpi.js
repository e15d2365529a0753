/* The hotline KPI chart: offered, answered and abandoned calls per interval (bars) and the
   offered-basis service level (line, right axis). */
(function () {
  "use strict";
  function ready(fn) {
    if (document.readyState !== "loading") { fn(); } else { document.addEventListener("DOMContentLoaded", fn); }
  }
  ready(function () {
    var source = document.getElementById("calls-chart");
    var box = document.getElementById("chart-kpi");
    if (!source || !box || !window.echarts) { return; }
    var data = JSON.parse(source.textContent);
    var labels = document.getElementById("chart-labels").dataset;
    var chart = window.echarts.init(box);
    chart.setOption({
      color: ["#0d6efd", "#20c997", "#fd7e14", "#6f42c1"],
      tooltip: { trigger: "axis" },
      legend: { bottom: 0 },
      grid: { left: 44, right: 44, top: 16, bottom: 56 },
      xAxis: { type: "category", data: data.labels },
      yAxis: [{ type: "value", minInterval: 1 }, { type: "value", min: 0, max: 100 }],
      dataZoom: [{ type: "inside" }],
      series: [
        { name: labels.offered, type: "bar", data: data.offered },
        { name: labels.answered, type: "bar", data: data.answered },
        { name: labels.abandoned, type: "bar", data: data.abandoned },
        { name: labels.sl, type: "line", yAxisIndex: 1, data: data.sl, connectNulls: false, symbolSize: 4 }
      ]
    });
    window.addEventListener("resize", function () { chart.resize(); });
  });
})();
