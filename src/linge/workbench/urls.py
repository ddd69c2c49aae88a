from django.urls import include, path

from linge.workbench import views

app_name = "workbench"
urlpatterns = [
    path("", views.inbox, name="inbox"),
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    path("bulk/", views.bulk, name="bulk"),
    path("messages/", views.inbox_messages, name="messages"),
    path("export.csv", views.export_csv, name="export_csv"),
    path("export.xlsx", views.export_xlsx, name="export_xlsx"),
    path("case/<str:number>/", views.case_page, name="case"),
    path("case/<str:number>/do/<str:action>/", views.act, name="act"),
    path("new/", views.ways_in, name="ways_in"),
    path("new/<str:source>/", views.new_case, name="new_case"),
    path("visits/", include("linge.visits.urls")),
    path("hot/", include("linge.insights.urls")),
]
