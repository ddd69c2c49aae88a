from django.urls import include, path

from linge.workbench.views import case, exports, inbox, login, messages, new_case

app_name = "workbench"
urlpatterns = [
    path("", inbox.inbox, name="inbox"),
    path("login/", login.LoginView.as_view(), name="login"),
    path("logout/", login.LogoutView.as_view(), name="logout"),
    path("bulk/", inbox.bulk, name="bulk"),
    path("messages/", messages.inbox_messages, name="messages"),
    path("export.csv", exports.export_csv, name="export_csv"),
    path("export.xlsx", exports.export_xlsx, name="export_xlsx"),
    path("case/<str:number>/", case.case_page, name="case"),
    path("case/<str:number>/do/<str:action>/", case.act, name="act"),
    path("new/", new_case.ways_in, name="ways_in"),
    path("new/<str:source>/", new_case.new_case, name="new_case"),
    path("new/<str:source>/grids", new_case.grid_search, name="grid_search"),
    path("visits/", include("linge.visits.urls")),
    path("hot/", include("linge.insights.urls")),
]
